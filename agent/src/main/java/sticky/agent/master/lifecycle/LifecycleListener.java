package sticky.agent.master.lifecycle;

/**
 * What the lifecycle tells whoever listens (systemd's notifications; the
 * take-over of an upgrade). On the master's loop.
 */
public interface LifecycleListener {
    /** Every slot serves: at start, and at the end of a rolling restart, whether it completed or stopped. */
    default void allServing() {}

    /** Clients are routed over this many workers from now on (scale). */
    default void scaled(int workers) {}

    /** A rolling restart of this many workers starts. */
    default void reloading(int workers) {}

    /** The cluster stops. */
    default void stopping() {}

    /** Something the operator should see (systemctl status). */
    default void status(String text) {}
}
