package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sticky.it.apps.HttpServerApp;

/**
 * systemd's Type=notify, with a datagram socket of the test's own as
 * NOTIFY_SOCKET: READY=1 once every worker serves, RELOADING=1 (with
 * MONOTONIC_USEC) and READY=1 around a rolling restart, STATUS= when a worker
 * restarts, STOPPING=1 at a stop; no worker sees NOTIFY_SOCKET.
 */
@Timeout(180)
class SystemdTest {
    /**
     * Socket activation: systemd-socket-activate binds the port and starts the
     * master with it as descriptor 3 (LISTEN_FDS); the master adopts it when
     * the application binds that port, so a client that connects before any
     * worker is up waits in its backlog and is answered.
     */
    @Test
    void aSocketPassedInIsAdoptedAndAClientEarlierThanTheWorkersIsAnswered() throws Exception {
        int port = JvmPortsTest.freePorts(1);
        try (Cluster cluster = Cluster.withAgent("workers=2", List.of(),
                List.of("systemd-socket-activate", "-l", Integer.toString(port)), HttpServerApp.class,
                Integer.toString(port))) {
            Socket early = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (early == null) { // until systemd-socket-activate listens: a condition, polled
                try {
                    early = Clients.connect(InetAddress.getByName("127.0.0.1"), port);
                } catch (java.net.ConnectException notYet) {
                    assertTrue(System.nanoTime() < deadline, "systemd-socket-activate never listened");
                    Thread.sleep(20);
                }
            }
            try (Socket client = early) {
                assertFalse(cluster.output().contains("listening " + port), "connected before the workers served");
                client.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                String answer = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
            }
            assertEquals(port, cluster.awaitPort(2));
            assertTrue(cluster.output().contains("(passed in by the service manager), dispatched by the master"),
                    cluster.output());
            Routing.assertSticky(cluster, port, Clients.ipv4(16), 2, Clients::http);
            for (ProcessHandle worker : cluster.workers()) {
                String environ = Files.readString(Path.of("/proc", Long.toString(worker.pid()), "environ"));
                assertFalse(environ.contains("LISTEN_FDS="), "the socket is the master's");
            }
            cluster.signal("TERM");
            assertEquals(0, cluster.waitForExit(Duration.ofSeconds(60)).intValue());
        }
    }

    @Test
    void theMasterTellsSystemdItsStatesAndNoWorkerSeesTheSocket() throws Exception {
        Path dir = Files.createTempDirectory("systemd");
        try (NotifySocket systemd = new NotifySocket(dir.resolve("notify"));
                Cluster cluster = Cluster.withAgent("workers=2", Map.of("NOTIFY_SOCKET", dir.resolve("notify").toString()),
                        HttpServerApp.class, "0")) {
            String ready = systemd.next(Cluster.START);
            int port = cluster.awaitPort(2);
            assertEquals("READY=1\nSTATUS=2 workers serving on [0:0:0:0:0:0:0:0]:" + port, ready);
            Routing.assertSticky(cluster, port, Clients.ipv4(16), 1, Clients::http);
            for (ProcessHandle worker : cluster.workers()) {
                String environ = Files.readString(Path.of("/proc", Long.toString(worker.pid()), "environ"));
                assertFalse(environ.contains("NOTIFY_SOCKET="), "a worker must not notify systemd itself");
            }

            cluster.signal("HUP");
            Matcher reloading = Pattern.compile("RELOADING=1\nMONOTONIC_USEC=(\\d+)\nSTATUS=rolling restart of 2 workers")
                    .matcher(systemd.next(Cluster.START));
            assertTrue(reloading.matches(), reloading.toString());
            long usec = Long.parseLong(reloading.group(1));
            assertTrue(Math.abs(System.nanoTime() / 1000 - usec) < 60_000_000, "CLOCK_MONOTONIC, as systemd reads it");
            assertEquals("READY=1\nSTATUS=2 workers serving on [0:0:0:0:0:0:0:0]:" + port, systemd.next(Cluster.START),
                    "the rolling restart is over");

            ProcessHandle victim = cluster.workers().get(0);
            victim.destroyForcibly();
            assertTrue(systemd.next(Cluster.START).matches("STATUS=worker [12] restarting after exit 137"));

            cluster.signal("TERM");
            assertEquals("STOPPING=1\nSTATUS=stopping", systemd.next(Cluster.START));
            assertEquals(0, cluster.waitForExit(Duration.ofSeconds(60)).intValue());
        } finally {
            Files.deleteIfExists(dir.resolve("notify"));
            Files.delete(dir);
        }
    }
}
