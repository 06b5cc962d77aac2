package sticky.agent.jvm;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** sticky's logger: its own slf4j-simple (isolated from the application's), at the level of the log= option. */
public final class Logs {
    private static final String LEVEL = "org.slf4j.simpleLogger.defaultLogLevel";

    private Logs() {}

    /**
     * slf4j-simple reads its configuration once, when the first logger is made:
     * simplelogger.properties through the thread's context class loader, then
     * system properties. For that moment only, the context loader is sticky's
     * (so sticky.jar's own simplelogger.properties is read, never the
     * application's) and the level property is sticky's (so an application that
     * uses slf4j-simple itself never sees it).
     */
    public static Logger init(String level) {
        Thread thread = Thread.currentThread();
        ClassLoader context = thread.getContextClassLoader();
        thread.setContextClassLoader(Logs.class.getClassLoader());
        try {
            return TemporaryProperty.with(LEVEL, level, () -> {
                Logger log = LoggerFactory.getLogger("sticky");
                log.isTraceEnabled();
                return log;
            });
        } catch (Exception e) {
            throw new IllegalStateException(e);
        } finally {
            thread.setContextClassLoader(context);
        }
    }

    public static Logger get() {
        return LoggerFactory.getLogger("sticky");
    }
}
