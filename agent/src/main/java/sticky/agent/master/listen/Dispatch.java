package sticky.agent.master.listen;

import java.net.InetSocketAddress;

/**
 * How a listener's connections reach its workers: {@link KernelDispatch}
 * (the kernel queues each on its slot's listening socket) or
 * {@link MasterDispatch} (the master accepts each and passes the socket on).
 * The listener decides which worker is live; a dispatch only follows.
 */
interface Dispatch {
    /** The address bound; null for a Unix-domain socket. */
    InetSocketAddress localAddress();

    /** How status and logs name it. */
    String name();

    /** How status names the dispatch: kernel, master or unix. */
    String kind();

    /** Whether workers accept from their slot's listening socket themselves. */
    boolean byKernel();

    /** The descriptor a new route of slot, for process pid, gives its worker; the master keeps its own copy. */
    int attach(int slot, long pid) throws java.io.IOException;

    /**
     * Clients are routed over live.length slots ({@code ClientHash}): slot
     * s's new clients go to live[s]'s worker, or the next live one's
     * ({@link NextLive}); live is never changed after.
     */
    void steer(Route[] live);

    /** Slot is gone (the count shrank past it, and its processes are gone): what was its is nobody's now. */
    default void removeSlot(int slot) {}

    /** Connections queued for the route's worker that it has not accepted yet. */
    int queued(Route route);

    /** The route is gone: what was queued to its worker and never accepted goes to another worker, if handOn, or is closed. */
    void detach(Route route, boolean handOn);

    /** Closes the listening socket(s); the workers' ends stay open until {@link #close}. */
    void stopAccepting();

    void close();

    /** A listening socket going to a new master: its kind (Protocol.KERNEL...), descriptor, and the new master's slot it is the home of, or -1. */
    record Handing(int kind, int fd, int home) {}

    /**
     * Upgrade, in the old master: the sockets a new master of slots workers
     * takes over, in order. This master keeps its copies and keeps
     * dispatching until {@link #handedOver}.
     */
    java.util.List<Handing> handOver(int slots) throws java.io.IOException;

    /**
     * Upgrade, in the old master: the new master dispatches from now on.
     * This one gives its workers no new connection and leaves the sockets it
     * shares with the new master as they are (no program, no shutdown, no sink).
     */
    default void handedOver() {}

    /** Upgrade, in the new master: its workers serve, and it dispatches from now on (an adopted dispatch waits for this). */
    default void resume() {}

    /** Upgrade, in the new master: the old master and its workers are gone, and so can the sockets only they used. */
    default void releaseForeign() {}
}
