package sticky.agent.master.listen;

/**
 * One worker process's server socket on a listener. The worker got its end
 * ({@link #workerEnd}: a listening socket of the group under kernel
 * dispatch, see {@link KernelDispatch}; a socket pair's end under master dispatch) with its bind answer. Its bind
 * connection (the lifeline) carries nothing after that answer: its end says
 * the server socket is closed or the worker is gone. Slots are 0-based.
 */
public final class Route {
    final Listener listener;
    final int slot;
    final long pid;
    final int lifeline;
    final int workerEnd;
    /** The worker is sent its bind answer next: only then may the route go live. Read and written on the master's loop. */
    boolean answered;

    /** Listener.add makes the real ones; the lifecycle's unit tests make their own, with no listener. */
    public Route(Listener listener, int slot, long pid, int lifeline, int workerEnd) {
        this.listener = listener;
        this.slot = slot;
        this.pid = pid;
        this.lifeline = lifeline;
        this.workerEnd = workerEnd;
    }

    public int slot() {
        return slot;
    }

    public long pid() {
        return pid;
    }

    /** The descriptor that goes to the worker with the bind answer. */
    public int workerEnd() {
        return workerEnd;
    }

    public Listener listener() {
        return listener;
    }
}
