package sticky.agent.jvm;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RateLimitedLogTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void theFirstIsLoggedThenAtMostOnePerIntervalAndNoneIsLostForGood() {
        RateLimitedLog log = new RateLimitedLog(Logs.get());
        assertTrue(log.warn(0, "refused {}", 1));
        for (int i = 0; i < 2000; i++) {
            assertFalse(log.warn(SECOND + i, "refused {}", i), "within the interval: left out");
        }
        assertTrue(log.warn(RateLimitedLog.INTERVAL_MS * 1_000_000 + 1, "refused {}", 2001),
                "after it, one line, which counts those left out");
        assertFalse(log.warn(RateLimitedLog.INTERVAL_MS * 1_000_000 + 2, "refused {}", 2002));
    }
}
