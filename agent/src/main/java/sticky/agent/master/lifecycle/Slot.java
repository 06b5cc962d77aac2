package sticky.agent.master.lifecycle;

import java.util.EnumMap;
import java.util.Map;

/** One worker slot of the lifecycle's table. On the master's loop only. */
final class Slot {
    final int index;
    /** The process that serves the slot (or is starting to), or null while it restarts or once finished. */
    Worker current;
    /** The process that is to take the slot over from current (a rolling restart's, a recycling's), until it does. */
    Worker replacement;
    /** The generation of the serving process. */
    int generation;
    int restarts;
    int startFailures;
    long backoffMs;
    boolean finished;
    /** Why the slot last got a new process, or null if it never did. */
    Reason lastReplaced;
    /** How many times it did, for each reason. */
    final Map<Reason, Integer> replacements = new EnumMap<>(Reason.class);

    Slot(int index) {
        this.index = index;
        for (Reason r : Reason.values()) {
            replacements.put(r, 0);
        }
    }

    /** The slot gets a new process, for reason. */
    void replaced(Reason reason) {
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
        backoffMs = young ? Math.min(Math.max(backoffMs * 2, Respawn.FIRST_BACKOFF_MS), Respawn.MAX_BACKOFF_MS) : 0;
        return backoffMs;
    }

    /** Whether w is the serving process of its slot, in slots (the table's, which shrinks and grows). */
    static boolean serves(java.util.List<Slot> slots, Worker w) {
        return w.slot < slots.size() && slots.get(w.slot).current == w;
    }

    /** How status names the slot's state: finished, restarting (no process), or its process's phase. */
    String state() {
        return finished ? "finished" : current == null ? "restarting" : current.phase.label();
    }
}
