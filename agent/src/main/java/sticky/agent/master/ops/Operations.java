package sticky.agent.master.ops;

/** What the operator's surfaces (the admin socket, JMX, the metrics endpoint) ask of the master. */
public interface Operations {
    ClusterStatus status();

    /** Starts a rolling restart: null when it started (or will, once a slot being replaced is done), or why not. */
    String reload();

    /** The same, and waits for its end: null when it went through, or why it was refused or stopped. */
    String reloadAndWait();

    /** Replaces this master in place and waits for the outcome: what the operator's command answers. */
    AdminServer.Answer upgrade();

    /**
     * scale: the count of workers to reach (N, or +N and -N from the count
     * asked for now), and waits until the cluster serves with it: what the
     * operator's command answers.
     */
    AdminServer.Answer scale(String count);

    /** The graceful stop, as SIGTERM; it runs on, and this returns at once. */
    void stop();
}
