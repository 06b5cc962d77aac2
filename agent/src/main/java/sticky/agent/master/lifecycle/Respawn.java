package sticky.agent.master.lifecycle;

import java.util.List;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import sticky.agent.jvm.Logs;

/**
 * A slot whose serving process died (not with 0) gets a new one: at once if
 * it had lived {@link #YOUNG_MS} or more, else after a back-off that doubles
 * from {@link #FIRST_BACKOFF_MS} to {@link #MAX_BACKOFF_MS}. Only a process
 * that died young before it served failed at start; when every unfinished
 * slot has failed at start {@link #GIVE_UP_AFTER} times in a row, the
 * application cannot run and the cluster gives up. A worker killed while
 * serving is always restarted. A part of {@link Lifecycle}, on the master's
 * loop.
 */
final class Respawn {
    private static final Logger log = Logs.get();
    static final long YOUNG_MS = 10_000;
    static final long FIRST_BACKOFF_MS = 100;
    static final long MAX_BACKOFF_MS = 30_000;
    static final int GIVE_UP_AFTER = 3;

    private final Table table;
    private final Timers timers;
    private final List<LifecycleListener> listeners;
    private final BooleanSupplier stopping;
    private final Runnable giveUp;

    Respawn(Table table, Timers timers, List<LifecycleListener> listeners, BooleanSupplier stopping, Runnable giveUp) {
        this.table = table;
        this.timers = timers;
        this.listeners = listeners;
        this.stopping = stopping;
        this.giveUp = giveUp;
    }

    /** slot's serving process w died with code (not 0), and no replacement was there to take over. */
    void died(Slot slot, Worker w, int code) {
        long livedMs = timers.now() - w.startedAt;
        boolean young = livedMs < YOUNG_MS;
        slot.backOff(young);
        slot.replaced(w.phase == Phase.HUNG ? Reason.HANG : Reason.CRASH);
        if (young && !w.served()) {
            slot.startFailures++;
        }
        if (table.slots.stream().allMatch(s -> s.finished || s.startFailures >= GIVE_UP_AFTER)) {
            log.error("worker {} (pid {}) exited with code {}; every worker keeps failing at start, giving up",
                    slot.id(), w.pid(), code);
            listeners.forEach(l -> l.status("every worker keeps failing at start; giving up"));
            giveUp.run();
            return;
        }
        log.warn("worker {} (pid {}) exited with code {} after {} ms; restarting it in {} ms", slot.id(), w.pid(),
                code, livedMs, slot.backoffMs);
        listeners.forEach(l -> l.status("worker " + slot.id() + " restarting after exit " + code));
        timers.after(slot.backoffMs, () -> restart(slot));
    }

    /** Starts the slot's serving process, unless it has one (or a replacement that took it) by now. */
    private void restart(Slot slot) {
        if (stopping.getAsBoolean() || slot.current != null || slot.finished || !table.has(slot)) {
            return;
        }
        if (slot.serveWith(table.spawn(slot, "restarted"))) {
            slot.restarts++;
        } else {
            timers.after(MAX_BACKOFF_MS, () -> restart(slot));
        }
    }
}
