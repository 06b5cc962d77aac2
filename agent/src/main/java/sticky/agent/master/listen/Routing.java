package sticky.agent.master.listen;

/**
 * What the master's lifecycle asks of its listeners: which worker process
 * gets a slot's new connections, and when they stop getting them. It never
 * decides liveness itself. Called on the master's loop only.
 */
public interface Routing {
    /** The route's worker is sent its bind answer next. */
    void answered(Route route);

    /** Makes route its slot's live route. */
    void goLive(Route route);

    /** Makes process pid's answered routes the live ones of slot. */
    void promote(int slot, long pid);

    /** Whether process next has an answered route on every listener where process previous has a route. */
    boolean covers(long next, long previous);

    /**
     * Clients are routed over count slots from now on ({@code ClientHash}):
     * one more routes some of them to the new slot, whose sockets were made
     * at its worker's binds; one fewer routes the last slot's back where they
     * were before it.
     */
    void routeSlots(int count);

    /** Slot is gone (the count shrank past it, and its processes are gone): its sockets are nobody's. */
    void removeSlot(int slot);

    /**
     * Upgrade, in the new master: whether process pid has an answered route
     * on every listener the old master handed over (true where there are none).
     */
    boolean bindsAdopted(long pid);

    /** Whether connections are queued for process pid that it has not accepted yet. */
    boolean queued(long pid);

    /** The route's slot sends its new clients to the next live slot, at once. */
    void retire(Route route);

    /** The route's lifeline ended: the application closed its server socket, or its worker died. */
    void release(Route route, boolean workerDied);

    /** Closes the listeners no worker holds, once no worker will come back for them. */
    void closeEmpty();

    /**
     * No new connection reaches a worker any more (master dispatch closes its
     * listening socket; kernel dispatch steers every slot to a socket nobody
     * accepts from); the workers' routes stay until {@link #closeAll}.
     */
    void stopAccepting();

    void closeAll();
}
