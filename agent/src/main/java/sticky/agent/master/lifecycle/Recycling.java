package sticky.agent.master.lifecycle;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.slf4j.Logger;
import sticky.agent.common.Durations;
import sticky.agent.jvm.Logs;

/**
 * max-memory and max-lifetime: a worker past either is replaced as in a
 * rolling restart of its slot alone (the replacement first, then the drain),
 * as gunicorn's max_requests and PM2's max_memory_restart recycle leaky
 * workers. Memory is the worker's PSS (its share of the pages it maps,
 * /proc/PID/smaps_rollup), looked at every {@link #MEMORY_CHECK_MS}; a
 * worker above the limit at two looks in a row is replaced after a random
 * delay of up to {@link #MEMORY_DELAY_MS}, so that workers that grow alike
 * are not replaced together: within about a minute of crossing it in all. A
 * worker reaches its lifetime with jitter of up to a tenth of it (at most a
 * minute). A part of {@link Lifecycle}, on the master's loop.
 */
public final class Recycling {
    private static final Logger log = Logs.get();
    static final long MEMORY_CHECK_MS = 10_000;
    static final long MEMORY_DELAY_MS = 30_000;
    /** When the slot cannot be replaced yet (another replacement or a reload is under way), it is tried again after this. */
    static final long RETRY_MS = 5_000;
    private static final long MAX_JITTER_MS = 60_000;

    /** A worker's memory: its PSS in bytes, or -1 when it cannot be read. */
    public interface Gauge {
        long pss(long pid);
    }

    /** The lifecycle's way to replace slot's worker w: false when it cannot now. */
    interface Replacer {
        boolean replace(Slot slot, Worker w, Reason reason);
    }

    private final long maxMemoryBytes;
    private final long maxLifetimeMs;
    private final Gauge gauge;
    private final Timers timers;
    private final Random random;
    private List<Slot> slots;
    private Replacer replacer;
    /** When each worker was first seen above max-memory, in the current run of looks. */
    private final Map<Worker, Long> overSince = new HashMap<>();
    /** Workers whose replacement is decided. */
    private final Set<Worker> due = new HashSet<>();

    public Recycling(long maxMemoryBytes, long maxLifetimeMs, Gauge gauge, Timers timers, Random random) {
        this.maxMemoryBytes = maxMemoryBytes;
        this.maxLifetimeMs = maxLifetimeMs;
        this.gauge = gauge;
        this.timers = timers;
        this.random = random;
    }

    public static Recycling off(Timers timers) {
        return new Recycling(0, 0, pid -> -1, timers, new Random());
    }

    void start(List<Slot> slots, Replacer replacer) {
        this.slots = slots;
        this.replacer = replacer;
        if (maxMemoryBytes > 0) {
            timers.after(MEMORY_CHECK_MS, this::lookAtMemory);
        }
    }

    /** w serves its slot from now: its lifetime runs. */
    void serving(Slot slot, Worker w) {
        if (maxLifetimeMs > 0) {
            long jitter = (long) (random.nextDouble() * Math.min(maxLifetimeMs / 10, MAX_JITTER_MS));
            timers.after(maxLifetimeMs + jitter, () -> {
                if (slot.current == w && w.phase == Phase.SERVING && due.add(w)) {
                    log.info("worker {} (pid {}) is {} old (max-lifetime {} ms); replacing it", slot.id(), w.pid(),
                            Durations.text(timers.now() - w.startedAt), maxLifetimeMs);
                    replace(slot, w, Reason.LIFETIME);
                }
            });
        }
    }

    /** The replacement started for w failed: w may be tried again, after a while. */
    void replacementFailed(Slot slot, Worker w, Reason reason) {
        if ((reason == Reason.MEMORY || reason == Reason.LIFETIME) && due.remove(w)) {
            timers.after(MEMORY_DELAY_MS, () -> {
                if (slot.current == w && w.phase == Phase.SERVING && due.add(w)) {
                    replace(slot, w, reason);
                }
            });
        }
    }

    private void lookAtMemory() {
        overSince.keySet().removeIf(w -> !Slot.serves(slots, w));
        due.removeIf(w -> !Slot.serves(slots, w));
        for (Slot slot : slots) {
            Worker w = slot.current;
            if (w == null || w.phase != Phase.SERVING || due.contains(w)) {
                continue;
            }
            long pss = gauge.pss(w.pid());
            if (pss <= maxMemoryBytes) {
                overSince.remove(w);
                continue;
            }
            Long since = overSince.putIfAbsent(w, timers.now());
            if (since != null && timers.now() - since >= MEMORY_CHECK_MS) {
                due.add(w);
                long delay = (long) (random.nextDouble() * MEMORY_DELAY_MS);
                log.warn("worker {} (pid {}) uses {} MiB (PSS), over max-memory {} MiB for {} ms; replacing it in {} ms",
                        slot.id(), w.pid(), pss >> 20, maxMemoryBytes >> 20, timers.now() - since, delay);
                timers.after(delay, () -> replace(slot, w, Reason.MEMORY));
            }
        }
        timers.after(MEMORY_CHECK_MS, this::lookAtMemory);
    }

    /** Replaces slot's w now, or as soon as the lifecycle can; not once w no longer serves it. */
    private void replace(Slot slot, Worker w, Reason reason) {
        if (slot.current != w || w.phase != Phase.SERVING) {
            due.remove(w);
            return;
        }
        if (!replacer.replace(slot, w, reason)) {
            timers.after(RETRY_MS, () -> replace(slot, w, reason));
        }
    }
}
