package sticky.agent.master;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sticky.agent.master.listen.Route;

/** One worker slot of the lifecycle's table, and (as Worker) each process in it. On the master's loop only. */
final class Slot {
    final int index;
    /** The process that serves the slot (or is starting to), or null while it restarts or once finished. */
    Worker current;
    /** A rolling restart's new process, until it takes over. */
    Worker replacement;
    /** The generation of the serving process. */
    int generation;
    int restarts;
    int startFailures;
    long backoffMs;
    boolean finished;
    /** Why the slot last got a new process ({@link #REASONS}), or null if it never did. */
    String lastReplaced;
    /** How many times it did, for each reason. */
    final Map<String, Integer> replacements = new LinkedHashMap<>();

    /** Why a slot gets a new process: its worker crashed or hung, grew past max-memory, reached max-lifetime, or a reload. */
    static final List<String> REASONS = List.of("crash", "hang", "memory", "lifetime", "reload");

    Slot(int index) {
        this.index = index;
        REASONS.forEach(r -> replacements.put(r, 0));
    }

    /** The slot gets a new process, for reason. */
    void replaced(String reason) {
        lastReplaced = reason;
        replacements.merge(reason, 1, Integer::sum);
    }

    int id() {
        return index + 1;
    }

    /** w, if there is one, becomes the process that serves the slot. */
    boolean serveWith(Worker w) {
        current = w;
        if (w != null) {
            generation = w.generation;
        }
        return w != null;
    }

    /** A worker died: doubling from the first back-off while they die young, none once one lived long. */
    long backOff(boolean young) {
        backoffMs = young ? Math.min(Math.max(backoffMs * 2, Lifecycle.FIRST_BACKOFF_MS), Lifecycle.MAX_BACKOFF_MS) : 0;
        return backoffMs;
    }

    /** One process in the table. */
    static final class Worker {
        final Spawner.WorkerProcess process;
        final int slot;
        final int generation;
        final long startedAt;
        boolean ready;
        boolean served;
        /** Sent SIGTERM: a rolling restart's old process, or any process at a stop. */
        boolean leaving;
        /** Why a replacement was started ({@link Slot#REASONS}); null for any other process. */
        String reason;
        /** The reason of the replacement this process left its slot to, once it did. */
        String leftFor;
        /** Found hung by the watchdog, and being ended. */
        boolean hung;
        /** Routes whose lifeline ended while the process still ran. */
        final List<Route> closedRoutes = new ArrayList<>();

        Worker(Spawner.WorkerProcess process, int slot, int generation, long startedAt) {
            this.process = process;
            this.slot = slot;
            this.generation = generation;
            this.startedAt = startedAt;
        }

        long pid() {
            return process.pid();
        }
    }
}
