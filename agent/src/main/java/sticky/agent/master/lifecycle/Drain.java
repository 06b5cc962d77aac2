package sticky.agent.master.lifecycle;

/** What a leaving worker still has to finish: the lifecycle's seam, faked in its unit tests. */
public interface Drain {
    /**
     * Whether process pid still has work: a connection it holds, or one
     * queued for it. Asking also moves it on: each connection that has
     * received a whole request is shut for reading, so that the application
     * answers it and then closes it.
     */
    boolean busy(long pid);
}
