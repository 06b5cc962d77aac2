package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import sticky.it.apps.HttpServerApp;
import sticky.it.apps.SelectorApp;

/** The master's end: killed, the workers follow; asked to stop, the whole cluster stops cleanly. */
@Timeout(180)
class LifecycleTest {
    /** The issue asks for "a second or two"; this bound leaves room for a loaded CI machine. */
    private static final Duration ORPHAN_LIMIT = Duration.ofSeconds(5);

    /**
     * The masters of this test keep their directories in a TMPDIR of its own: any master started in
     * the same TMPDIR removes a dead one's, those of test classes running alongside this one too.
     */
    @Test
    void workersExitWhenTheMasterIsKilledWithSigkill(@TempDir Path tmp) throws Exception {
        Map<String, String> env = Map.of("TMPDIR", tmp.toString());
        try (Cluster cluster = Cluster.withAgent("workers=2", env, SelectorApp.class, "0")) {
            cluster.awaitPort(2);
            List<ProcessHandle> workers = cluster.workers();
            assertEquals(2, workers.size());
            long killed = System.nanoTime();
            cluster.process().destroyForcibly(); // SIGKILL
            // Poll: onExit() of a process that is not our child is itself polled by the JDK, with back-off.
            while (workers.stream().anyMatch(LifecycleTest::running)) {
                assertTrue(System.nanoTime() - killed < ORPHAN_LIMIT.toNanos(),
                        "workers still alive " + ORPHAN_LIMIT + " after the master was killed");
                Thread.sleep(10);
            }
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
            System.out.println("workers exited " + ms + " ms after the master was killed");

            // The killed master could not remove its directory; the next master does.
            Path left = cluster.directory();
            assertTrue(Files.isDirectory(left), "the killed master's directory " + left);
            try (Cluster next = Cluster.withAgent("workers=1", env, SelectorApp.class, "0")) {
                next.awaitPort(1);
                assertFalse(Files.exists(left), left + " outlived its master");
            }
        }
    }

    /**
     * Alive and not a zombie: an orphaned worker that has exited stays a zombie
     * until whatever adopted it reaps it, which is not the worker's doing.
     */
    static boolean running(ProcessHandle process) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (IOException gone) {
            return false;
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"TERM", "INT"})
    void sigtermOrCtrlCStopsTheWholeClusterWithExitCodeZero(String signal) throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2", HttpServerApp.class, "0")) {
            int port = cluster.awaitPort(2);
            Routing.assertSticky(cluster, port, ServerApisTest.sources(), 1, Clients::http);
            List<ProcessHandle> workers = cluster.workers();
            cluster.signal(signal);
            Integer code = cluster.waitForExit(Duration.ofSeconds(60));
            assertNotNull(code, "the master must stop");
            assertEquals(0, code.intValue());
            for (ProcessHandle worker : workers) {
                assertFalse(running(worker), "worker " + worker.pid() + " outlived the master");
            }
        }
    }

    /**
     * A temp directory with no room left fails the master's start at once,
     * with the reason and exit code 1, before any worker starts (the file the
     * workers count in was made sparse, and the first connection's count
     * killed them with SIGBUS, or on JDK 25 stopped them with exit 0).
     */
    @Test
    void aFullTempDirectoryFailsTheStartAtOnceWithTheReason() throws Exception {
        Path full = Files.createTempDirectory("sticky-full");
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", full.toString())
                .inheritIO().start();
        assertEquals(0, mount.waitFor(), "this test mounts a small tmpfs (as root, as scripts/setup runs)");
        try {
            try (OutputStream filler = Files.newOutputStream(full.resolve("filler"))) {
                byte[] block = new byte[4096];
                while (true) {
                    filler.write(block); // until the file system is full
                    filler.flush();
                }
            } catch (IOException noRoom) {
                assertTrue(String.valueOf(noRoom.getMessage()).contains("No space left"), noRoom.toString());
            }
            try (Cluster cluster = Cluster.withAgent("workers=2", Map.of("TMPDIR", full.toString()), HttpServerApp.class,
                    "0")) {
                Integer code = cluster.waitForExit(Duration.ofSeconds(60));
                assertNotNull(code, "the master must stop by itself: " + cluster.output());
                assertEquals(1, code.intValue(), cluster.output());
                assertTrue(cluster.output().contains("No space left on device"), cluster.output());
                assertTrue(cluster.output().contains("the master's directory needs room"), cluster.output());
                assertFalse(cluster.output().contains(" started, pid "), "no worker may start: " + cluster.output());
            }
        } finally {
            new ProcessBuilder("umount", full.toString()).inheritIO().start().waitFor();
            Files.deleteIfExists(full);
        }
    }
}
