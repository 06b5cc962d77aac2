package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sticky.it.apps.GracefulHttpApp;
import sticky.it.apps.HangingShutdownApp;

/** SIGTERM: workers run their shutdown hooks and finish what they are doing, within the shutdown timeout. */
@Timeout(180)
class GracefulStopTest {
    @Test
    void aRequestInProgressFinishesAndTheMasterExitsZero() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2", GracefulHttpApp.class, "0")) {
            int port = cluster.awaitPort(2);
            CompletableFuture<String> slow = Clients.getLater(port, "/slow");
            cluster.await(l -> l.equals("handling slow request"), 1, Cluster.START);
            cluster.signal("TERM");
            String response = slow.get(60, TimeUnit.SECONDS);
            assertTrue(response.startsWith("HTTP/1.1 200"), "the request in progress must finish: " + response);
            Integer code = cluster.waitForExit(Duration.ofSeconds(60));
            assertNotNull(code);
            assertEquals(0, code.intValue(), cluster.output());
            cluster.await(l -> l.equals("stopped gracefully"), 2, Cluster.START);
        }
    }

    @Test
    void workersStillRunningAfterTheShutdownTimeoutAreKilledAndTheExitCodeSaysSo() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2,shutdown-timeout=1s", HangingShutdownApp.class, "0")) {
            cluster.awaitPort(2);
            long start = System.nanoTime();
            cluster.signal("TERM");
            Integer code = cluster.waitForExit(Duration.ofSeconds(60));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertNotNull(code);
            assertEquals(1, code.intValue());
            assertTrue(ms >= 1000 && ms < 20_000, "stopped after " + ms + " ms");
            // Both workers write to the master's stdout and stderr: a line may end another process's unfinished one.
            cluster.await(l -> l.endsWith("shutdown hook hangs"), 2, Cluster.START);
            cluster.await(l -> l.matches("WARN sticky - pid \\d+ did not stop within 1000 ms; killed"), 2, Cluster.START);
            assertFalse(cluster.output().contains("connection to the master is closed"),
                    "the application's accept must stay blocked while its shutdown hooks run: " + cluster.output());
        }
    }
}
