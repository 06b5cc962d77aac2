package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
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
        "workers=+2    ; sticky: option 'workers' must be a count from 1 to 256 or 'auto', not '+2'",
        "metrics=0     ; sticky: option 'metrics' must be PORT or HOST:PORT (a port from 1 to 65535), not '0'",
        "max-memory=17179869185g ; sticky: option 'max-memory' must be at most 1048576g, not '17179869185g'",
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

    /**
     * The agent given twice (java's command line and JAVA_TOOL_OPTIONS): it
     * runs once, with the first options (JAVA_TOOL_OPTIONS comes first), and
     * says so in one line; no worker fails on a class defined twice.
     */
    @Test
    void anAgentGivenTwiceRunsOnceWithTheFirstOptionsAndSaysSoOnce() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2", java.util.Map.of("JAVA_TOOL_OPTIONS",
                "-javaagent:" + Cluster.JAR + "=workers=1"), WorkerIdApp.class, "0")) {
            cluster.awaitPort(1);
            MasterStatus status = cluster.awaitServing(1);
            assertEquals(1, status.workersAsked(), "the first options: JAVA_TOOL_OPTIONS's");
            assertEquals(1, cluster.output().lines().filter(l -> l.startsWith("sticky: the agent is given twice")).count(),
                    cluster.output());
            assertTrue(cluster.output().contains("it runs once, with the first options given, 'workers=1'; 'workers=2' "
                    + "ignored"), cluster.output());
            assertFalse(cluster.output().contains("LinkageError"), cluster.output());
        }
    }

    /**
     * LISTEN_FDS for this process that is no count, or that names
     * descriptors that are not listening sockets: one line says so, and the
     * cluster binds its ports itself.
     */
    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
        "abc  ; socket activation: LISTEN_FDS='abc' is not a count of descriptors from 0 to 1024; no socket adopted",
        "-1   ; socket activation: LISTEN_FDS='-1' is not a count of descriptors from 0 to 1024; no socket adopted",
        "99999; socket activation: LISTEN_FDS='99999' is not a count of descriptors from 0 to 1024; no socket adopted",
        "1000 ; socket activation: 1000 of the 1000 descriptors LISTEN_FDS names are not listening TCP sockets",
    })
    void aListenFdsThatNamesNoSocketsIsSaidOnceAndLeftAlone(String count, String said) throws Exception {
        // LISTEN_PID must be the JVM's own pid: a shell sets it, then execs java in its place.
        List<String> wrapper = List.of("sh", "-c", "LISTEN_PID=$$ LISTEN_FDS=" + count + " exec \"$@\"", "sh");
        try (Cluster cluster = Cluster.withAgent("workers=1", List.of(), wrapper, HttpServerApp.class, "0")) {
            int port = cluster.awaitPort(1);
            assertTrue(Clients.http(java.net.InetAddress.getByName("127.0.0.1"), port).startsWith("pid="));
            List<String> lines = cluster.output().lines().filter(l -> l.contains("LISTEN_FDS")).toList();
            assertEquals(1, lines.size(), cluster.output());
            assertTrue(lines.get(0).contains(said), lines.get(0));
        }
    }
}
