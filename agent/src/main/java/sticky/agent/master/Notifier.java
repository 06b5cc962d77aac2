package sticky.agent.master;

/** What the lifecycle tells a service manager (systemd's Type=notify, see {@link SystemdNotifier}). On the master's loop. */
interface Notifier {
    Notifier NONE = new Notifier() {};

    /** Every worker serves (at start, and at the end of a rolling restart). */
    default void ready() {}

    /** A rolling restart starts. */
    default void reloading(int workers) {}

    /** The cluster stops. */
    default void stopping() {}

    /** Upgrade: this master took the service over from the old one (MAINPID) and every worker serves. */
    default void tookOver() {}

    /** Something the operator should see in systemctl status. */
    default void status(String text) {}
}
