package sticky.agent.common;

/** What the master tells a worker it starts: the environment that makes a JVM with the agent a worker. */
public final class Environment {
    /** The worker's id, 1 to N (its slot + 1), as cluster.worker.id in Node. */
    public static final String WORKER_ID = "STICKY_WORKER_ID";
    /** The master's control socket. */
    public static final String CONTROL = "STICKY_CONTROL";
    /** The cluster's secret, which every control connection shows first. */
    public static final String SECRET = "STICKY_SECRET";
    /** The AOT cache the worker was started with (-XX:AOTCache), to check that its JVM mapped it. */
    public static final String CDS_ARCHIVE = "STICKY_CDS_ARCHIVE";
    /** In a new master an upgrade started: the old master's control socket, where it gets its sockets. */
    public static final String UPGRADE = "STICKY_UPGRADE";
    /**
     * In a new master an upgrade started: the count of workers the old master
     * runs, and the count its command line asked for ("4 2"): the new master
     * keeps the running count unless its own command line asks another.
     */
    public static final String UPGRADE_WORKERS = "STICKY_UPGRADE_WORKERS";
    /** The old master's secret, which the new master's hello shows. */
    public static final String UPGRADE_SECRET = "STICKY_UPGRADE_SECRET";
    /** The system property that holds the worker id in a worker. */
    public static final String ID_PROPERTY = "sticky.worker.id";

    private Environment() {}
}
