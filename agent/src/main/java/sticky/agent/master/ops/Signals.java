package sticky.agent.master.ops;

import org.slf4j.Logger;
import sticky.agent.jvm.Logs;
import sun.misc.Signal;

/**
 * The master's signals besides SIGTERM and SIGINT (the shutdown hook's):
 * SIGHUP for the rolling restart, SIGTTIN and SIGTTOU for one worker more or
 * fewer (as unicorn, gunicorn and Puma take them), through sun.misc.Signal
 * (jdk.unsupported, JDK 17 and 25): the JDK offers no other way to handle a
 * signal. Installed first thing, so that none of them finds the JVM's own
 * handling (SIGHUP would run the shutdown hooks and exit; SIGTTIN and
 * SIGTTOU would stop the process when it reads or writes a terminal it does
 * not own); what arrives before the master can act says so and is ignored.
 */
public final class Signals {
    private static final Logger log = Logs.get();

    /** What each signal does; null until the master can act on them. */
    public interface Actions {
        void hangup();

        void moreWorkers();

        void fewerWorkers();
    }

    private static volatile Actions actions;

    private Signals() {}

    public static void install() {
        handle("HUP", "rolling restart", a -> a.hangup());
        handle("TTIN", "one more worker", a -> a.moreWorkers());
        handle("TTOU", "one worker fewer", a -> a.fewerWorkers());
    }

    /** From now on the signals act. */
    public static void actOn(Actions now) {
        actions = now;
    }

    private static void handle(String name, String what, java.util.function.Consumer<Actions> act) {
        try {
            Signal.handle(new Signal(name), signal -> {
                Actions now = actions;
                if (now == null) {
                    log.warn("SIG{} ({}) ignored: the master is still starting", name, what);
                } else {
                    act.accept(now);
                }
            });
        } catch (IllegalArgumentException e) {
            log.warn("SIG{} cannot be handled here ({}); {} is off", name, e.getMessage(), what);
        }
    }
}
