package sticky.agent.jvm;

import java.util.concurrent.Callable;

/**
 * Sets a system property for the duration of one call of sticky's own start-up,
 * then puts back what was there: a library inside sticky reads it then, and the
 * application, which has not started yet, never sees it.
 */
public final class TemporaryProperty {
    private TemporaryProperty() {}

    public static <T> T with(String key, String value, Callable<T> body) throws Exception {
        String before = System.getProperty(key);
        System.setProperty(key, value);
        try {
            return body.call();
        } finally {
            if (before == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, before);
            }
        }
    }
}
