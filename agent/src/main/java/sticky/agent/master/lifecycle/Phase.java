package sticky.agent.master.lifecycle;

import java.util.Locale;

/**
 * Where a worker process is in its life, in order; status shows it by
 * {@link #label}. A process leaves (or is found hung) from any earlier phase.
 */
public enum Phase {
    /** Started; its agent has not said hello yet. */
    STARTING,
    /** Said hello: the application runs, and serves no listener yet (or is a replacement waiting to take over). */
    RUNNING,
    /** Its slot's clients reach it. */
    SERVING,
    /** Gets no new connection: it finishes its requests, then gets SIGTERM. */
    LEAVING,
    /** The watchdog found it hung: its thread dump, then SIGKILL. */
    HUNG;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
