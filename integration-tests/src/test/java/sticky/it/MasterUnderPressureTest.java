package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.StandardProtocolFamily;
import java.net.URL;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sticky.it.apps.HttpServerApp;

/**
 * The master under local pressure (issue 30 items 2 and 3): floods of
 * connections that say nothing on its control and admin sockets hold none of
 * its threads and lock no worker or operator out, and are logged in a few
 * lines; a brief shortage of descriptors does not end its metrics endpoint.
 */
@Timeout(180)
class MasterUnderPressureTest {
    private static final int FLOOD = 300;

    @Test
    void floodsOfSilentConnectionsHoldNoThreadAndLockNoWorkerOrOperatorOut() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2", HttpServerApp.class, "0")) {
            cluster.awaitPort(2);
            long master = cluster.process().pid();
            MasterStatus before = cluster.awaitServing(2);
            int threadsBefore = threads(master);
            Path control = ControlChannelTest.controlSocket(cluster);
            Path admin = control.resolveSibling("admin");
            List<AutoCloseable> flood = new ArrayList<>();
            try {
                for (int i = 0; i < FLOOD; i++) {
                    flood.add(new ControlClient(control)); // says nothing
                    SocketChannel halfSent = SocketChannel.open(StandardProtocolFamily.UNIX);
                    halfSent.connect(UnixDomainSocketAddress.of(admin));
                    halfSent.write(ByteBuffer.wrap("stat".getBytes(StandardCharsets.US_ASCII))); // and no newline
                    flood.add(halfSent);
                }
                int threadsDuring = threads(master);
                assertTrue(threadsDuring < threadsBefore + 10, "the flood holds the master's threads: " + threadsBefore
                        + " -> " + threadsDuring);
                // Meanwhile the operator's command is answered, and replacement workers register and serve.
                assertEquals(null, cluster.reloadAndWait());
                MasterStatus after = cluster.awaitServing(2);
                Set<Long> old = before.workers().stream().map(MasterStatus.Worker::pid).collect(Collectors.toSet());
                assertTrue(after.workers().stream().noneMatch(w -> old.contains(w.pid())), after.toString());
            } finally {
                for (AutoCloseable c : flood) {
                    c.close();
                }
            }
            MasterStatus counted = cluster.awaitStatus(s -> s.refusedControlConnections() >= FLOOD);
            assertEquals(FLOOD, counted.refusedControlConnections(), "each silent one is counted");
            long logged = cluster.output().lines().filter(l -> l.contains("refused a control connection")).count();
            assertTrue(logged >= 1 && logged <= 5, "a few lines for " + FLOOD + " refusals, not one each: " + logged);
        }
    }

    /**
     * The master's first scrape comes while it has one descriptor left (its
     * RLIMIT_NOFILE lowered with prlimit): once descriptors are there again,
     * every scrape is answered. (Before, the JDK server's first Date header
     * failed to load the time-zone rules, and its class stayed broken.)
     */
    @Test
    void theMetricsEndpointAnswersAgainAfterTheMasterRanOutOfDescriptors() throws Exception {
        int port = JvmPortsTest.freePorts(1);
        try (Cluster cluster = Cluster.withAgent("workers=1,metrics=" + port, HttpServerApp.class, "0")) {
            cluster.awaitPort(1);
            long master = cluster.process().pid();
            cluster.awaitServing(1);
            String limits = prlimit(master, null);
            prlimit(master, Integer.toString(lowestFreeDescriptor(master) + 1)); // one descriptor left: the scrape's
            try {
                scrape(port);
            } catch (IOException expected) {
                // out of descriptors: this one may fail; the point is the next ones
            }
            prlimit(master, limits);
            for (int i = 0; i < 3; i++) {
                String body = scrape(port);
                assertTrue(body.contains("sticky_workers"), body);
            }
        }
    }

    private static String scrape(int port) throws IOException {
        HttpURLConnection c = (HttpURLConnection) new URL("http://127.0.0.1:" + port + "/metrics").openConnection();
        c.setConnectTimeout(5000);
        c.setReadTimeout(5000);
        try {
            if (c.getResponseCode() != 200) {
                throw new IOException("HTTP " + c.getResponseCode());
            }
            return new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } finally {
            c.disconnect();
        }
    }

    /** prlimit --nofile on pid: sets soft:hard (or both to one value), or returns "soft:hard" when given null. */
    private static String prlimit(long pid, String nofile) throws Exception {
        List<String> command = nofile == null
                ? List.of("prlimit", "--pid", Long.toString(pid), "--nofile", "--raw", "--noheadings", "--output", "SOFT,HARD")
                : List.of("prlimit", "--pid", Long.toString(pid), "--nofile=" + (nofile.contains(":") ? nofile
                        : nofile + ":"));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals(0, p.waitFor(), String.join(" ", command) + ": " + out);
        return nofile == null ? String.join(":", out.split("\\s+")) : out;
    }

    private static int lowestFreeDescriptor(long pid) throws IOException {
        Set<Integer> open;
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            open = fds.map(p -> Integer.parseInt(p.getFileName().toString())).collect(Collectors.toSet());
        }
        int fd = 0;
        while (open.contains(fd)) {
            fd++;
        }
        return fd;
    }

    private static int threads(long pid) throws IOException {
        return Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
                .filter(l -> l.startsWith("Threads:")).map(l -> Integer.parseInt(l.substring(8).trim())).findFirst()
                .orElseThrow();
    }
}
