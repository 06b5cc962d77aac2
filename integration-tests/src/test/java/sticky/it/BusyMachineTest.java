package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Isolated;
import sticky.it.apps.ConnectionHolder;
import sticky.it.apps.HttpServerApp;

/**
 * A busy host has a large TCP table. status and the metrics count each
 * worker's open connections from the kernel's sockets on the listeners'
 * ports only: with 20,000 other connections on the machine (40,000 sockets
 * in its table) they count right, and the master's memory does not grow
 * with scrapes, one after the other or many at once. Alone (@Isolated): its
 * 40,000 sockets and the RSS it measures are the machine's, not the class's.
 */
@Isolated
@Timeout(300)
class BusyMachineTest {
    private static final int OTHERS = 10_000; // per holder pair; two pairs

    @Test
    void openConnectionsAreCountedWithoutReadingTheMachinesWholeTable() throws Exception {
        int metricsPort = JvmPortsTest.freePorts(1);
        List<Cluster> holders = new ArrayList<>();
        // The JVM sizes the master's heap itself, as in production: a master that kept the table's text would grow.
        try (Cluster cluster = Cluster.withAgentSizingItsHeap("workers=2,metrics=" + metricsPort, List.of(), List.of(),
                Map.of(), HttpServerApp.class, "0")) {
            int port = cluster.awaitPort(2);
            for (String from : List.of("127.0.0.2", "127.0.0.3")) {
                Cluster server = Cluster.withoutAgent(ConnectionHolder.class, "serve", "0");
                holders.add(server);
                Cluster clients = Cluster.withoutAgent(ConnectionHolder.class, "connect", from,
                        Integer.toString(server.awaitPort(1)), Integer.toString(OTHERS));
                holders.add(clients);
                clients.await(l -> l.equals("held " + OTHERS), 1, Duration.ofMinutes(2));
            }
            assertTrue(tableLines() > 4 * OTHERS, "the machine's TCP table holds the others: " + tableLines());

            InetAddress client = InetAddress.getByName("127.0.0.9");
            long owner = Long.parseLong(Clients.field(Clients.http(client, port), "pid"));
            List<Socket> held = Clients.holdOpen(client, port, 3);
            try {
                long master = cluster.process().pid();
                scrape(metricsPort); // the first scrape loads what every later one uses
                long before = rssKb(master);
                for (int i = 0; i < 30; i++) {
                    assertOpen(scrape(metricsPort), cluster.status(), owner);
                }
                ExecutorService together = Executors.newFixedThreadPool(20);
                try {
                    List<CompletableFuture<String>> scrapes = new ArrayList<>();
                    for (int i = 0; i < 20; i++) {
                        scrapes.add(CompletableFuture.supplyAsync(() -> scrape(metricsPort), together));
                    }
                    for (CompletableFuture<String> s : scrapes) {
                        assertOpen(s.get(), cluster.status(), owner);
                    }
                } finally {
                    together.shutdownNow();
                }
                long grewKb = rssKb(master) - before;
                System.out.println("busy machine: the master's RSS grew " + grewKb + " kB over 50 scrapes and 30 statuses");
                assertTrue(grewKb < 64 * 1024, "the master's memory grew " + grewKb + " kB with the scrapes");
            } finally {
                for (Socket s : held) {
                    s.close();
                }
            }
        } finally {
            for (Cluster holder : holders) {
                holder.close();
            }
        }
    }

    /** The worker that serves the held client shows its 3 connections, the other none, in the metrics and status. */
    private static void assertOpen(String metrics, MasterStatus status, long owner) {
        for (MasterStatus.Worker w : status.workers()) {
            long expected = w.pid() == owner ? 3 : 0;
            assertEquals(expected, w.open(), "status: " + status);
            assertTrue(metrics.contains("sticky_connections_open{worker=\"" + w.id() + "\"} " + expected + "\n"), metrics);
        }
    }

    private static String scrape(int metricsPort) {
        try (InputStream in = new URL("http://127.0.0.1:" + metricsPort + "/metrics").openStream()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The lines of the machine's TCP tables (an IPv4 connection of a dual-stack JDK socket is in tcp6). */
    private static long tableLines() throws Exception {
        long count = 0;
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            try (var lines = Files.lines(Path.of(table))) {
                count += lines.count();
            }
        }
        return count;
    }

    private static long rssKb(long pid) throws Exception {
        return Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
                .filter(l -> l.startsWith("VmRSS:")).mapToLong(l -> Long.parseLong(l.replaceAll("\\D", ""))).sum();
    }
}
