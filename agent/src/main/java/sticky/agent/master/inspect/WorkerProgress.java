package sticky.agent.master.inspect;

import sticky.agent.common.SlotCounts;
import sticky.agent.master.lifecycle.Watchdog;
import sticky.agent.master.listen.Listeners;

/** What the watchdog sees of the workers, from the counts they keep, the listeners and /proc. On the master's loop. */
public final class WorkerProgress implements Watchdog.Progress {
    private final SlotCounts counts;
    private final Listeners listeners;

    public WorkerProgress(SlotCounts counts, Listeners listeners) {
        this.counts = counts;
        this.listeners = listeners;
    }

    @Override
    public long taken(int slot) {
        return counts.acceptedBy(slot) + counts.takenBy(slot);
    }

    @Override
    public long waiting(long pid) {
        return listeners.waiting(pid);
    }

    @Override
    public boolean sending(long pid, long withinMs) {
        return WorkerConnections.sentWithin(pid, listeners.ports(), withinMs);
    }

    @Override
    public boolean debugged(long pid) {
        return Debugger.mayHold(pid);
    }
}
