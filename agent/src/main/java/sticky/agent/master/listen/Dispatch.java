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

    /** Whether workers accept from their slot's listening socket themselves. */
    boolean byKernel();

    /** The descriptor a new route of slot, for process pid, gives its worker; the master keeps its own copy. */
    int attach(int slot, long pid) throws java.io.IOException;

    /** Slot s's new clients go to live[s]'s worker, or the next live one's ({@link NextLive}); live is never changed after. */
    void steer(Route[] live);

    /** Connections queued for the route's worker that it has not accepted yet. */
    int queued(Route route);

    /** The route is gone: what was queued to its worker and never accepted goes to another worker, if handOn, or is closed. */
    void detach(Route route, boolean handOn);

    /** Closes the listening socket(s); the workers' ends stay open until {@link #close}. */
    void stopAccepting();

    void close();
}
