package sticky.agent.master.lifecycle;

import java.util.HashMap;
import java.util.List;
import org.slf4j.Logger;
import sticky.agent.jvm.Logs;
import java.util.Map;

/**
 * watchdog=: a worker whose clients wait for it while it takes none of them
 * (connections queued on its listening socket, or handed to it and not
 * taken), for the watchdog's whole duration, and that sends nothing on the
 * connections it has meanwhile, is hung, as gunicorn's and Puma's worker
 * timeouts say. Only a worker that has taken a connection
 * since it began to serve is watched (one that never accepted is still
 * starting, however long that takes), and never one a debugger may hold
 * ({@link Progress#debugged}). A leaving worker (replaced, or its master
 * handed over to a new one) is judged too: one whose waiting connections do
 * not get fewer for the watchdog's duration, while it sends nothing, is hung
 * as well, killed rather than waited for until the shutdown timeout (in
 * master dispatch what it never took goes to its slot's live worker then).
 * Looked at every {@link #CHECK_MS}; what to do with a hung worker is the
 * lifecycle's. A part of {@link Lifecycle}, on the master's loop.
 */
public final class Watchdog {
    private static final Logger log = Logs.get();
    static final long CHECK_MS = 1000;
    /** How long a hung worker gets to write its thread dump before it is killed. */
    static final long THREAD_DUMP_MS = 2000;

    /** What the watchdog sees of the workers. */
    public interface Progress {
        /** Connections slot's workers have taken so far (accepted from its socket, or from the master). */
        long taken(int slot);

        /** How much waits for worker pid on the TCP listeners: 0 when nothing does, less once it takes some. */
        long waiting(long pid);

        /** Whether worker pid sent data on one of its connections within the last withinMs. */
        boolean sending(long pid, long withinMs);

        /** Whether a debugger may hold worker pid. */
        boolean debugged(long pid);
    }

    private static final class Watch {
        final long takenAtStart;
        long lastTaken;
        /** A leaving worker's: the least that waited for it so far. */
        long leastWaiting = Long.MAX_VALUE;
        long stalledSince = -1;

        Watch(long taken) {
            this.takenAtStart = taken;
            this.lastTaken = taken;
        }
    }

    private final long limitMs;
    private final Progress progress;
    private final Timers timers;
    private final Map<Worker, Watch> watched = new HashMap<>();
    private Table table;
    private List<LifecycleListener> listeners;

    public Watchdog(long limitMs, Progress progress, Timers timers) {
        this.limitMs = limitMs;
        this.progress = progress;
        this.timers = timers;
    }

    public static Watchdog off(Timers timers) {
        return new Watchdog(0, null, timers);
    }

    void start(Table table, List<LifecycleListener> listeners) {
        this.table = table;
        this.listeners = listeners;
        if (limitMs > 0) {
            timers.after(CHECK_MS, this::look);
        }
    }

    /** w serves its slot from now: what it takes from here on counts. */
    void serving(Slot slot, Worker w) {
        if (limitMs > 0) {
            watched.put(w, new Watch(progress.taken(slot.index)));
        }
    }

    /**
     * Whether w may be judged on other evidence (health=): it has taken a
     * connection since it began to serve, is not under a debugger.
     */
    boolean judges(Slot slot, Worker w) {
        Watch watch = watched.get(w);
        return watch != null && progress.taken(slot.index) > watch.takenAtStart && !progress.debugged(w.pid());
    }

    /** health=: slot's process pid did not answer its health check; hung, if it still serves and may be judged. */
    void unhealthy(int slot, long pid, String why) {
        Worker w = table.get(pid);
        Slot s = slot < table.slots.size() ? table.slot(slot) : null;
        if (w != null && s != null && w == s.current && w.phase == Phase.SERVING && judges(s, w)) {
            hung(w, why);
        }
    }

    /**
     * w is hung: its thread dump goes to its output (SIGQUIT), then it is
     * killed and its slot restarts as after a crash; its clients go to the
     * next live slot once it is gone.
     */
    private void hung(Worker w, String why) {
        log.error("worker {} (pid {}) is hung: {}; its thread dump follows (SIGQUIT), then it is killed", w.id(),
                w.pid(), why);
        boolean leaving = w.phase == Phase.LEAVING;
        w.phase = Phase.HUNG;
        w.process.quit();
        listeners.forEach(l -> l.status("worker " + w.id() + (leaving ? " hung while leaving; killing it"
                : " hung; restarting it")));
        timers.after(THREAD_DUMP_MS, () -> {
            if (table.running(w)) {
                w.process.kill();
            }
        });
    }

    private void look() {
        watched.keySet().removeIf(w -> !table.running(w) || w.phase != Phase.SERVING && w.phase != Phase.LEAVING
                || w.phase == Phase.SERVING && !Slot.serves(table.slots, w));
        long now = timers.now();
        for (Worker w : table.processes()) {
            if (w.phase == Phase.LEAVING) {
                lookAtLeaving(w, now);
            }
        }
        for (Slot slot : table.slots) {
            Worker w = slot.current;
            if (w == null || w.phase != Phase.SERVING) {
                continue;
            }
            long taken = progress.taken(slot.index);
            Watch watch = watched.computeIfAbsent(w, x -> new Watch(taken));
            if (taken != watch.lastTaken || progress.waiting(w.pid()) == 0) {
                watch.lastTaken = taken;
                watch.stalledSince = -1;
            } else if (watch.stalledSince < 0 || progress.debugged(w.pid())) {
                // Stalled from now; under a debugger the clock starts again at each look, so that once let go
                // the worker gets the whole time to take what waits.
                watch.stalledSince = now;
            } else if (now - watch.stalledSince >= limitMs && taken > watch.takenAtStart) {
                if (progress.sending(w.pid(), limitMs)) {
                    watch.stalledSince = now; // busy with what it has (at a connection limit, say): look again later
                } else {
                    hung(w, "connections have waited " + (now - watch.stalledSince) + " ms for it while it took none");
                }
            }
        }
        timers.after(CHECK_MS, this::look);
    }

    /**
     * A leaving worker gets no new connection: what waits for it getting
     * fewer is its progress (its slot's count is its successor's too).
     */
    private void lookAtLeaving(Worker w, long now) {
        Watch watch = watched.computeIfAbsent(w, x -> new Watch(0));
        long waiting = progress.waiting(w.pid());
        if (waiting == 0 || waiting < watch.leastWaiting || progress.debugged(w.pid())) {
            watch.leastWaiting = waiting == 0 ? Long.MAX_VALUE : Math.min(waiting, watch.leastWaiting);
            watch.stalledSince = waiting == 0 ? -1 : now;
        } else if (now - watch.stalledSince >= limitMs) {
            if (progress.sending(w.pid(), limitMs)) {
                watch.stalledSince = now;
            } else {
                hung(w, "it is leaving, and the connections queued for it have waited " + (now - watch.stalledSince)
                        + " ms while it took none");
            }
        }
    }
}
