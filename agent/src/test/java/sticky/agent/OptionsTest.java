package sticky.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class OptionsTest {
    private static final int PROCESSORS = Runtime.getRuntime().availableProcessors();

    @Test
    void defaultsAreOneWorkerPerProcessorAndInfoLogs() {
        assertEquals(new Options(PROCESSORS, "info", 30_000, null), Options.parse(null));
        assertEquals(new Options(PROCESSORS, "info", 30_000, null), Options.parse(""));
    }

    @Test
    void parsesEveryKey() {
        assertEquals(new Options(4, "debug", 30_000, null), Options.parse("workers=4,log=DEBUG"));
        assertEquals(new Options(PROCESSORS, "warn", 30_000, null), Options.parse(" workers = auto , log=warn"));
        assertEquals(new Options(Options.MAX_WORKERS, "info", 30_000, null), Options.parse("workers=256"));
    }

    @Test
    void shutdownTimeoutIsADuration() {
        assertEquals(500, Options.parse("shutdown-timeout=500ms").shutdownTimeoutMs());
        assertEquals(45_000, Options.parse("shutdown-timeout=45s").shutdownTimeoutMs());
        assertEquals(45_000, Options.parse("shutdown-timeout=45").shutdownTimeoutMs());
        assertEquals(120_000, Options.parse("shutdown-timeout=2m").shutdownTimeoutMs());
        assertEquals("option 'shutdown-timeout' must be a duration such as 30s, 500ms or 2m, not '1h'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("shutdown-timeout=1h")).getMessage());
    }

    @Test
    void metricsIsALoopbackPortOrAnAddress() {
        assertEquals(java.net.InetSocketAddress.createUnresolved("127.0.0.1", 9100), Options.parse("metrics=9100").metrics());
        assertEquals(java.net.InetSocketAddress.createUnresolved("0.0.0.0", 9100),
                Options.parse("metrics=0.0.0.0:9100").metrics());
        assertEquals(java.net.InetSocketAddress.createUnresolved("::1", 80), Options.parse("metrics=[::1]:80").metrics());
        assertEquals("option 'metrics' must be PORT or HOST:PORT, not 'x'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("metrics=x")).getMessage());
    }

    @Test
    void errorsNameTheOption() {
        assertEquals("unknown option 'wrokers' (options: workers, log, shutdown-timeout, metrics)",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("wrokers=2")).getMessage());
        assertEquals("option 'workers' must be a count from 1 to 256 or 'auto', not '257'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("workers=257")).getMessage());
        assertEquals("option 'workers' must be a count from 1 to 256 or 'auto', not '-1'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("workers=-1")).getMessage());
        assertEquals("option 'workers' must be a count from 1 to 256 or 'auto', not ''",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("workers=")).getMessage());
        assertEquals("option '' is not key=value (options: workers, log, shutdown-timeout, metrics)",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("workers=2,")).getMessage());
    }
}
