package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import sticky.it.apps.HttpServerApp;
import sticky.it.apps.WorkerIdApp;

/** Agent options: bad ones stop the JVM before anything starts; workers=auto uses every processor. */
@Timeout(120)
class OptionsTest {
    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
        "workers=abc   ; sticky: option 'workers' must be a count from 1 to 256 or 'auto', not 'abc'",
        "workers=0     ; sticky: option 'workers' must be a count from 1 to 256 or 'auto', not '0'",
        "workers=2,x=1 ; sticky: unknown option 'x' (options: workers, log, shutdown-timeout, metrics, route, trust, dispatch, cpus, max-memory, max-lifetime, watchdog, health, private, memory, proxy-header, cds)",
        "shutdown-timeout=soon ; sticky: option 'shutdown-timeout' must be a duration such as 30s, 500ms, 2m or 12h, not 'soon'",
        "cpus=none     ; sticky: option 'cpus' must be share, all or a count from 1 to 4096, not 'none'",
        "log=loud      ; sticky: option 'log' must be one of off, error, warn, info, debug, trace, not 'loud'",
        "proxy-header=strip ; sticky: option 'proxy-header=strip' needs route=proxy (it strips the PROXY header that route reads), not route=ip",
        "max-memory=lots ; sticky: option 'max-memory' must be a size of at least 1m, such as 512m or 2g, or off, not 'lots'",
        "workers       ; sticky: option 'workers' is not key=value (options: workers, log, shutdown-timeout, metrics, route, trust, dispatch, cpus, max-memory, max-lifetime, watchdog, health, private, memory, proxy-header, cds)",
    })
    void badOptionStopsTheJvmBeforeAnyWorkerOrApplicationCode(String options, String message) throws Exception {
        try (Cluster cluster = Cluster.withAgent(options, HttpServerApp.class, "0")) {
            Integer code = cluster.waitForExit(Duration.ofSeconds(60));
            assertNotNull(code, "the JVM must stop");
            assertEquals(2, code.intValue());
            assertEquals(message, cluster.output().strip(), "exactly one line, naming the option");
            assertFalse(cluster.output().contains("listening"), "no application code may run");
            assertTrue(cluster.workers().isEmpty());
        }
    }

    @Test
    void workersAutoStartsOneWorkerPerProcessor() throws Exception {
        int processors = Runtime.getRuntime().availableProcessors();
        try (Cluster cluster = Cluster.withAgent("workers=auto", WorkerIdApp.class, "0")) {
            cluster.awaitPort(processors);
            assertEquals(processors, cluster.workers().size());
        }
    }
}
