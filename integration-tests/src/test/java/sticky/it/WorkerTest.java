package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import sticky.it.apps.HeapApp;
import sticky.it.apps.LibrariesApp;
import sticky.it.apps.SelectorApp;
import sticky.it.apps.ServerSocketApp;
import sticky.it.apps.WorkerIdApp;

/** What the application in a worker sees: its id, its own libraries, its socket options, a quiet start. */
@Timeout(180)
class WorkerTest {
    @Test
    void workerIdIsInAPropertyAndTheEnvironment() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2", WorkerIdApp.class, "0")) {
            cluster.awaitPort(2);
            Pattern line = Pattern.compile("worker property=(\\d+) env=(\\d+) pid=(\\d+)");
            Set<String> workerPids = cluster.workers().stream().map(p -> Long.toString(p.pid())).collect(Collectors.toSet());
            Set<String> ids = cluster.await(l -> l.startsWith("worker property="), 2, Cluster.START).stream().map(l -> {
                Matcher m = line.matcher(l);
                assertTrue(m.matches(), l);
                assertEquals(m.group(1), m.group(2), "property and environment agree");
                assertTrue(workerPids.contains(m.group(3)), "printed by a worker: " + l);
                return m.group(1);
            }).collect(Collectors.toSet());
            assertEquals(Set.of("1", "2"), ids);
        }
    }

    /**
     * Each worker sizes what it sizes from the processor count for its share
     * (by default), and keeps the collector the application has without sticky.
     */
    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
        "workers=2          ;                            ; share",
        "workers=2,cpus=all ;                            ; all",
        "workers=2,cpus=3   ;                            ; 3",
        "workers=2          ; -XX:ActiveProcessorCount=3 ; 3",
    })
    void workersCountTheirShareOfTheProcessors(String options, String jvmOption, String expected) throws Exception {
        int processors = Runtime.getRuntime().availableProcessors();
        int count = switch (expected) {
            case "share" -> (processors + 1) / 2;
            case "all" -> processors;
            default -> Integer.parseInt(expected);
        };
        String plainGc;
        try (Cluster plain = Cluster.withoutAgent(WorkerIdApp.class, "0")) {
            plainGc = plain.await(l -> l.startsWith("processors "), 1, Cluster.START).get(0).replaceFirst(".* gc ", "");
        }
        List<String> jvm = jvmOption == null ? List.of() : List.of(jvmOption);
        try (Cluster cluster = Cluster.withAgent(options, jvm, WorkerIdApp.class, "0")) {
            cluster.awaitPort(2);
            assertEquals(List.of("processors " + count + " gc " + plainGc, "processors " + count + " gc " + plainGc),
                    cluster.await(l -> l.startsWith("processors "), 2, Cluster.START));
        }
    }

    /**
     * memory=share: with no heap size of the user's, each of two workers
     * takes the heap a JVM given half the machine's memory takes; with
     * memory=all, a plain JVM's; a size of the user's (on the command line,
     * or in JAVA_TOOL_OPTIONS) is kept, in each worker.
     */
    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
        "workers=2            ;           ;                        ; share",
        "workers=2,memory=all ;           ;                        ; all",
        "workers=2            ; -Xmx200m  ;                        ; kept",
        "workers=2            ;           ; -XX:MaxRAMPercentage=10 ; kept",
    })
    void workersSizeTheirHeapsForTheirShareOfTheMemory(String options, String jvmOption, String toolOptions,
            String expected) throws Exception {
        long total = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getTotalMemorySize();
        List<String> jvm = jvmOption == null ? List.of() : List.of(jvmOption);
        java.util.Map<String, String> env = toolOptions == null ? java.util.Map.of()
                : java.util.Map.of("JAVA_TOOL_OPTIONS", toolOptions);
        List<String> plain = expected.equals("share") ? List.of("-XX:MaxRAM=" + total / 2) : jvm;
        String plainHeap = heaps(Cluster.withAgentSizingItsHeap(null, List.of(), plain, env, HeapApp.class, "0"), 1)
                .get(0);
        assertEquals(List.of(plainHeap, plainHeap),
                heaps(Cluster.withAgentSizingItsHeap(options, List.of(), jvm, env, HeapApp.class, "0"), 2));
    }

    /**
     * Under a memory limit (a cgroup of 2 GiB the test makes), the master sees
     * the limit, and each of two workers takes the heap of a JVM given 1 GiB.
     */
    @Test
    void workersShareTheContainersMemoryLimit() throws Exception {
        java.nio.file.Path cgroup = java.nio.file.Path.of("/sys/fs/cgroup/memory/sticky-test-" + ProcessHandle.current().pid());
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isDirectory(cgroup.getParent())
                && java.nio.file.Files.isWritable(cgroup.getParent()), "needs a cgroup v1 memory hierarchy to write to");
        java.nio.file.Files.createDirectory(cgroup);
        try {
            java.nio.file.Files.writeString(cgroup.resolve("memory.limit_in_bytes"), Long.toString(2L << 30));
            List<String> inCgroup = List.of("sh", "-c", "echo $$ > " + cgroup.resolve("cgroup.procs") + " && exec \"$@\"",
                    "sh");
            String limited = heaps(Cluster.withAgentSizingItsHeap(null, inCgroup, List.of(), java.util.Map.of(),
                    HeapApp.class, "0"), 1).get(0);
            String oneGiB = heaps(Cluster.withAgentSizingItsHeap(null, List.of(), List.of("-XX:MaxRAM=" + (1L << 30)),
                    java.util.Map.of(), HeapApp.class, "0"), 1).get(0);
            assertTrue(Long.parseLong(limited) > Long.parseLong(oneGiB), "a plain JVM sees the 2 GiB limit: " + limited);
            assertEquals(List.of(oneGiB, oneGiB), heaps(Cluster.withAgentSizingItsHeap("workers=2", inCgroup, List.of(),
                    java.util.Map.of(), HeapApp.class, "0"), 2));
        } finally {
            for (int i = 0; i < 100 && java.nio.file.Files.exists(cgroup); i++) {
                try {
                    java.nio.file.Files.delete(cgroup); // once the processes in it are gone
                } catch (java.io.IOException busy) {
                    Thread.sleep(100);
                }
            }
        }
    }

    /** The heaps the first count processes of cluster report, once it serves; then it is stopped. */
    private static List<String> heaps(Cluster cluster, int count) throws Exception {
        try (cluster) {
            cluster.awaitPort(count);
            return cluster.await(l -> l.startsWith("heap "), count, Cluster.START).stream()
                    .map(l -> l.substring(5)).collect(Collectors.toList());
        }
    }

    /** Long class paths are common: the command line is longer than a page. */
    @Test
    void workersGetTheWholeCommandLineHoweverLong() throws Exception {
        String padding = "-Dsticky.test.padding=" + "x".repeat(10_000);
        try (Cluster cluster = Cluster.withAgent("workers=2", List.of(padding), SelectorApp.class, "0")) {
            int port = cluster.awaitPort(2);
            for (ProcessHandle worker : cluster.workers()) {
                String cmdline = java.nio.file.Files.readString(java.nio.file.Path.of("/proc", Long.toString(worker.pid()), "cmdline"));
                assertTrue(cmdline.contains(padding + "\0"), "worker " + worker.pid() + " lacks the long option");
            }
            Routing.assertSticky(cluster, port, ServerApisTest.sources(), 1, Clients::line);
        }
    }

    @Test
    void anApplicationsOwnJnaAndByteBuddyAreUntouched() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2", LibrariesApp.class, "0")) {
            int port = cluster.awaitPort(2);
            List<String> lines = cluster.await(l -> l.startsWith("libraries "), 2, Cluster.START);
            for (String l : lines) {
                assertTrue(l.matches("libraries jna=5\\.14\\.0 getpid=true bytebuddy=.*/byte-buddy-1\\.14\\.18\\.jar"
                        + " made=sticky\\.it\\.apps\\.Made"), l);
            }
            Routing.assertSticky(cluster, port, ServerApisTest.sources(), 2, Clients::line);
        }
    }

    /**
     * Sizes other than the default, small and large: Linux doubles what is set
     * and clamps it to net.core.rmem_max, so the expected value is what a
     * plain JVM reports on the same machine, for every source (IPv4 and
     * IPv6 on the dual-stack socket), and for the server socket itself.
     */
    @EachDispatch
    void receiveBufferSetBeforeBindReachesAcceptedSocketsAsWithoutTheAgent(String dispatch) throws Exception {
        assertReceiveBufferAsWithoutTheAgent(dispatch, "before");
    }

    /**
     * The same set after bind: with kernel dispatch on each slot's listening
     * socket, with master dispatch on each accepted socket (the server
     * socket's descriptor is then sticky's connection to the master).
     */
    @EachDispatch
    void receiveBufferSetAfterBindReachesAcceptedSocketsAsWithoutTheAgent(String dispatch) throws Exception {
        assertReceiveBufferAsWithoutTheAgent(dispatch, "after");
    }

    private static void assertReceiveBufferAsWithoutTheAgent(String dispatch, String when) throws Exception {
        Map<String, String> expected = new TreeMap<>();
        Map<String, String> seen = new TreeMap<>();
        for (String size : List.of("4096", "1048576")) {
            try (Cluster plain = Cluster.withoutAgent(ServerSocketApp.class, "0", size, when)) {
                int port = plain.awaitPort(1);
                expected.put(size + " server", plain.await(l -> l.startsWith("server "), 1, Cluster.START).get(0));
                for (var source : ServerApisTest.sources()) {
                    expected.put(size + " from " + source.getHostAddress(),
                            Clients.field(Clients.line(source, port), "rcvbuf"));
                }
            }
            try (Cluster cluster = Cluster.withAgent("workers=2,dispatch=" + dispatch, ServerSocketApp.class, "0",
                    size, when)) {
                int port = cluster.awaitPort(2);
                // Both workers' lines, once if they are the same.
                seen.put(size + " server", String.join(" / ",
                        new TreeSet<>(cluster.await(l -> l.startsWith("server "), 2, Cluster.START))));
                for (var source : ServerApisTest.sources()) {
                    seen.put(size + " from " + source.getHostAddress(),
                            Clients.field(Clients.line(source, port), "rcvbuf"));
                }
            }
        }
        assertEquals(expected, seen);
    }

    @Test
    void theLogOptionSetsStickysLevel() throws Exception {
        try (Cluster quiet = Cluster.withAgent("workers=2,log=warn", SelectorApp.class, "0")) {
            quiet.awaitPort(2);
            Clients.line(Clients.ipv4(1).get(0), quiet.awaitPort(2));
            assertFalse(quiet.output().contains("sticky -"), quiet.output());
        }
        try (Cluster verbose = Cluster.withAgent("workers=2,log=debug", SelectorApp.class, "0")) {
            verbose.awaitPort(2);
            verbose.await(l -> l.matches("DEBUG sticky - worker [12] ready, pid \\d+"), 2, Cluster.START);
        }
    }

    @Test
    void aNormalStartPrintsOneLinePerWorkerAndNoWarnings() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2", SelectorApp.class, "0")) {
            int port = cluster.awaitPort(2);
            Clients.line(Clients.ipv4(1).get(0), port);
            String output = cluster.output();
            List<String> agentLines = output.lines().filter(l -> !l.startsWith("listening ")).collect(Collectors.toList());
            assertEquals(2, agentLines.stream().filter(l -> l.matches("INFO sticky - worker [12] started, pid \\d+")).count(),
                    output);
            assertEquals(1, agentLines.stream().filter(l -> l.startsWith("INFO sticky - listening on ")).count(), output);
            assertEquals(3, agentLines.size(), "nothing else, no warnings: " + output);
            assertFalse(output.toLowerCase().contains("warning"), output);
        }
    }
}
