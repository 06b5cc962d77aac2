package sticky.agent.master.ops;

import org.slf4j.Logger;
import sticky.agent.jvm.Logs;
import sun.misc.Signal;

/**
 * SIGHUP for the rolling restart, through sun.misc.Signal (jdk.unsupported,
 * JDK 17 and 25): the JDK offers no other way to handle a signal. This
 * replaces the JVM's default SIGHUP handling, which would run the shutdown
 * hooks and exit.
 */
public final class Signals {
    private static final Logger log = Logs.get();

    private Signals() {}

    public static void onHangup(Runnable action) {
        try {
            Signal.handle(new Signal("HUP"), signal -> action.run());
        } catch (IllegalArgumentException e) {
            log.warn("SIGHUP cannot be handled here ({}); rolling restarts are off", e.getMessage());
        }
    }
}
