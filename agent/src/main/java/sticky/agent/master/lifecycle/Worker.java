package sticky.agent.master.lifecycle;

import java.util.ArrayList;
import java.util.List;
import sticky.agent.master.listen.Route;

/** One worker process in the lifecycle's table. On the master's loop only. */
final class Worker {
    final Spawner.WorkerProcess process;
    /** 0-based. */
    final int slot;
    final int generation;
    final long startedAt;
    Phase phase = Phase.STARTING;
    /** When a route of it first went live, or -1: a process that never served and dies young failed at start. */
    long servedAt = -1;
    /** Why it was started, when it replaces a serving process; null for a slot's first process or a restart. */
    Reason reason;
    /** The reason of the replacement it left its slot to, once it did. */
    Reason leftFor;
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

    int id() {
        return slot + 1;
    }

    boolean served() {
        return servedAt >= 0;
    }
}
