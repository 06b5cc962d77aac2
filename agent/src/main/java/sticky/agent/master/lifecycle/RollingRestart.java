package sticky.agent.master.lifecycle;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import sticky.agent.jvm.Logs;

/**
 * The rolling restart (SIGHUP, reload, JMX): slot after slot, the serving
 * process gets a replacement, which takes the slot over once it has bound
 * what the old one had; the next slot starts once the old process is gone
 * (at once, if it died meanwhile). A slot restarting after a crash is
 * skipped: its restart starts what is on disk anyway. A replacement that
 * fails stops the rolling restart, and the remaining workers keep running.
 * One asked for while a slot is being replaced alone (max-memory,
 * max-lifetime) starts once that is over. A part of {@link Lifecycle}, on
 * the master's loop.
 */
final class RollingRestart {
    private static final Logger log = Logs.get();

    /** The lifecycle's way to start slot's replacement for a reload: false when no process could start. */
    interface Replacer {
        boolean replace(Slot slot);
    }

    private final List<LifecycleListener> listeners;
    private final List<Slot> slots;
    private final Replacer replacer;
    private boolean running;
    /** Asked for while a slot was being replaced alone: it starts once that is over. */
    private boolean waiting;
    private ReloadOutcome outcome = ReloadOutcome.NONE;
    /** Completed when the rolling restart ends: null when it went through, else why it stopped. */
    private final List<CompletableFuture<String>> waiters = new ArrayList<>();

    RollingRestart(List<LifecycleListener> listeners, List<Slot> slots, Replacer replacer) {
        this.listeners = listeners;
        this.slots = slots;
        this.replacer = replacer;
    }

    boolean running() {
        return running;
    }

    /** Running, or asked for and waiting to start. */
    boolean pending() {
        return running || waiting;
    }

    ReloadOutcome outcome() {
        return outcome;
    }

    /** Starts now, or, later, once the slot being replaced alone is done; waiter (or null) is told of its end. */
    void begin(boolean later, CompletableFuture<String> waiter) {
        if (waiter != null) {
            waiters.add(waiter);
        }
        if (later) {
            waiting = true;
            outcome = new ReloadOutcome("waiting", null);
            log.info("rolling restart asked for: it starts once the worker being replaced has left");
            return;
        }
        running = true;
        outcome = new ReloadOutcome("running", null);
        log.info("rolling restart of {} workers", slots.size());
        listeners.forEach(l -> l.reloading(slots.size()));
        next(0);
    }

    /**
     * slot's replacement, started for reason, is over: its old process has
     * left or died (failure null), or the replacement failed (failure says
     * why). The one place a rolling restart goes on from.
     */
    void replacementEnded(Slot slot, Reason reason, String failure) {
        if (running && reason == Reason.RELOAD) {
            if (failure == null) {
                next(slot.index + 1);
            } else {
                stop(failure);
            }
        } else if (waiting && !running) {
            waiting = false;
            begin(false, null);
        }
    }

    /** The cluster stops or hands over: no slot is replaced any more. */
    void cancel(String why) {
        if (running || waiting) {
            running = false;
            waiting = false;
            end(new ReloadOutcome("stopped", why));
        }
    }

    /** Replaces the first slot from index on that has a serving process, or ends. */
    private void next(int index) {
        for (int i = index; i < slots.size(); i++) {
            Slot slot = slots.get(i);
            if (slot.finished || slot.current == null) {
                continue; // restarting after a crash: it starts from what is on disk now anyway
            }
            if (!replacer.replace(slot)) {
                stop("worker " + slot.id() + ": no replacement process could be started");
            }
            return;
        }
        running = false;
        log.info("rolling restart done");
        end(new ReloadOutcome("done", null));
        listeners.forEach(LifecycleListener::allServing);
    }

    private void stop(String why) {
        running = false;
        log.error("rolling restart stopped ({}); the remaining workers keep running", why);
        listeners.forEach(l -> l.status("rolling restart stopped; the remaining workers keep running"));
        end(new ReloadOutcome("stopped", why));
        listeners.forEach(LifecycleListener::allServing);
    }

    private void end(ReloadOutcome ended) {
        outcome = ended;
        waiters.forEach(w -> w.complete(ended.why()));
        waiters.clear();
    }
}
