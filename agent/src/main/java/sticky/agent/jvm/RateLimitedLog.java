package sticky.agent.jvm;

import org.slf4j.Logger;

/**
 * A warning that hostile or broken peers can make the master repeat (a
 * refused connection, say): the first is logged, then at most one line per
 * {@link #INTERVAL_MS}, which says how many were left out before it. So a
 * flood of 2,000 refused connections is a few lines, and the first of a
 * quiet day is never hidden.
 */
public final class RateLimitedLog {
    static final long INTERVAL_MS = 10_000;

    private final Logger log;
    private long lastNanos;
    private boolean logged;
    private long leftOut;

    public RateLimitedLog(Logger log) {
        this.log = log;
    }

    /** Logs format with its arguments (slf4j's), unless one was logged within the interval. */
    public void warn(String format, Object... arguments) {
        warn(System.nanoTime(), format, arguments);
    }

    synchronized boolean warn(long nowNanos, String format, Object... arguments) {
        if (logged && nowNanos - lastNanos < INTERVAL_MS * 1_000_000) {
            leftOut++;
            return false;
        }
        String more = leftOut == 0 ? "" : " (and " + leftOut + " more like it in the last " + (nowNanos - lastNanos)
                / 1_000_000_000 + " s)";
        log.warn(format + more, arguments);
        logged = true;
        lastNanos = nowNanos;
        leftOut = 0;
        return true;
    }
}
