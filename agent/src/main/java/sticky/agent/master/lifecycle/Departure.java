package sticky.agent.master.lifecycle;

import java.util.function.Predicate;
import org.slf4j.Logger;
import sticky.agent.jvm.Logs;

/**
 * How a worker leaves, once it gets no new connection any more (its slot
 * moved to a replacement, or the listeners closed): it finishes its requests
 * in progress ({@link Drain}), for up to the shutdown timeout, then gets
 * SIGTERM, then SIGKILL after the shutdown timeout again. A part of
 * {@link Lifecycle}, on the master's loop.
 */
final class Departure {
    private static final Logger log = Logs.get();
    /** How often a leaving worker's connections are looked at. */
    static final long DRAIN_CHECK_MS = 50;

    private final Drain drain;
    private final Timers timers;
    private final long shutdownTimeoutMs;
    private final Predicate<Worker> running;
    private int kills;

    /** running: whether the worker's process is still in the lifecycle's table (not reaped). */
    Departure(Drain drain, Timers timers, long shutdownTimeoutMs, Predicate<Worker> running) {
        this.drain = drain;
        this.timers = timers;
        this.shutdownTimeoutMs = shutdownTimeoutMs;
        this.running = running;
    }

    void start(Worker w) {
        w.phase = Phase.LEAVING;
        finishThenTerminate(w, timers.now());
    }

    /** Workers killed so far because they did not stop in time. */
    int kills() {
        return kills;
    }

    private void finishThenTerminate(Worker w, long since) {
        if (!running.test(w) || w.phase != Phase.LEAVING) {
            return; // gone, or found hung meanwhile: ended as such
        }
        long waited = timers.now() - since;
        if (drain.busy(w.pid())) {
            if (waited < shutdownTimeoutMs) {
                timers.after(DRAIN_CHECK_MS, () -> finishThenTerminate(w, since));
                return;
            }
            log.warn("worker {} (pid {}) still has requests in progress after {} ms; stopping it", w.id(), w.pid(),
                    waited);
        } else if (waited > 0) {
            log.info("worker {} (pid {}) finished its requests in {} ms; stopping it", w.id(), w.pid(), waited);
        }
        w.process.terminate();
        timers.after(shutdownTimeoutMs, () -> {
            if (running.test(w)) {
                log.warn("pid {} did not stop within {} ms; killed", w.pid(), shutdownTimeoutMs);
                w.process.kill();
                kills++;
            }
        });
    }
}
