package sticky.agent.master;

/** What a leaving worker still has to finish: the lifecycle's seam, faked in its unit tests. */
interface Drain {
    /**
     * Closes the idle connections of process pid for their clients, and tells
     * whether it still holds a request in progress or connections queued for it.
     */
    boolean busy(long pid);
}
