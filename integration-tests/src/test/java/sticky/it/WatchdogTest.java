package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import sticky.it.apps.HangingHttpApp;
import sticky.it.apps.HealthApp;
import sticky.it.apps.SlowAcceptApp;

/**
 * watchdog=: a worker whose clients wait while it takes none is found, its
 * thread dump lands in its output, it is killed and its slot serves again;
 * nobody else's clients move. A worker that is only slow, or that a debugger
 * holds, is left alone.
 */
@Timeout(240)
class WatchdogTest {
    /** A thread for each request that waits: the common pool may have a single one (two processors). */
    private final ExecutorService clients = Executors.newCachedThreadPool();

    @AfterEach
    void stopClients() {
        clients.shutdownNow();
    }

    @EachDispatch
    void aWorkerThatTakesNoConnectionIsDumpedKilledAndItsSlotServesAgain(String dispatch) throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2,watchdog=3s,dispatch=" + dispatch, HangingHttpApp.class,
                "0")) {
            int port = cluster.awaitPort(2);
            List<InetAddress> sources = Clients.ipv4(16);
            Map<InetAddress, String> before = Routing.assertSticky(cluster, port, sources, 1, Clients::http);
            clients.submit(() -> get(InetAddress.getByName("127.0.0.1"), port, "/hang")); // never answered: its worker's
            // accepting thread is stuck from now
            cluster.await(l -> l.equals("hanging"), 1, Cluster.START);
            String hungPid = before.get(InetAddress.getByName("127.0.0.1"));
            int hungId = cluster.awaitStatus(s -> s.workers().size() == 2).workers().stream()
                    .filter(w -> Long.toString(w.pid()).equals(hungPid)).findFirst().orElseThrow().id();
            List<CompletableFuture<String>> waiting = new ArrayList<>();
            for (InetAddress source : sources) {
                if (before.get(source).equals(hungPid)) {
                    waiting.add(CompletableFuture.supplyAsync(() -> get(source, port, "/"), clients));
                }
            }
            cluster.await(l -> l.matches(".*ERROR sticky - worker \\d \\(pid " + hungPid + "\\) is hung: connections have "
                    + "waited \\d+ ms for it while it took none; its thread dump follows \\(SIGQUIT\\), then it is killed"),
                    1, Cluster.START);
            cluster.await(l -> l.startsWith("Full thread dump"), 1, Cluster.START);
            MasterStatus after = cluster.awaitStatus(MasterStatus.replaced(hungId, Long.parseLong(hungPid)));
            assertEquals("hang", after.worker(hungId).lastReplaced(), after.toString());
            for (CompletableFuture<String> answer : waiting) {
                String body = answer.get(60, TimeUnit.SECONDS);
                assertTrue(body.startsWith("pid="), "a client that waited for the hung worker is answered: " + body);
                assertNotEquals(hungPid, Clients.field(body, "pid"));
            }
            String successor = Long.toString(after.worker(hungId).pid());
            for (InetAddress source : sources) {
                String expected = before.get(source).equals(hungPid) ? successor : before.get(source);
                assertEquals(expected, Clients.field(Clients.http(source, port), "pid"), source + ": nobody else moved");
            }
        }
    }

    /**
     * A worker that hangs as a rolling restart replaces it (its replacement
     * took its slot; it leaves, with connections queued for it): it is
     * judged as any other, its thread dump then SIGKILL at the watchdog's
     * time, not waited for until shutdown-timeout. With master dispatch what
     * it never took goes to its slot's new worker; with kernel dispatch a
     * listening socket's queue cannot move, and those connections are reset
     * (README, Limits).
     */
    @EachDispatch
    void aWorkerThatHangsWhileItLeavesIsKilledAtTheWatchdogsTime(String dispatch) throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2,watchdog=10s,shutdown-timeout=60s,dispatch=" + dispatch,
                HangingHttpApp.class, "0")) {
            int port = cluster.awaitPort(2);
            List<InetAddress> sources = Clients.ipv4(16);
            Map<InetAddress, String> before = Routing.assertSticky(cluster, port, sources, 1, Clients::http);
            long first = cluster.awaitServing(2).worker(1).pid();
            InetAddress source = sources.stream().filter(s -> before.get(s).equals(Long.toString(first))).findFirst()
                    .orElseThrow(() -> new AssertionError("no client of worker 1 among " + before));
            clients.submit(() -> get(source, port, "/hang")); // worker 1 accepts nothing from now
            cluster.await(l -> l.equals("hanging"), 1, Cluster.START);
            List<Socket> waiting = new ArrayList<>();
            for (int i = 0; i < 3; i++) { // connected, so queued for worker 1, before its replacement takes its slot
                Socket socket = Clients.connect(source, port);
                socket.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                waiting.add(socket);
            }
            assertEquals(null, MasterStatus.request(cluster.process().pid(), "reload").failure());
            MasterStatus leaving = cluster.awaitStatus(s -> s.worker(1).leaving().contains(first));
            long successor = leaving.worker(1).pid();
            long started = System.nanoTime();
            // Well under shutdown-timeout (60 s), which the old master waited for: 10 s of watchdog, 2 s of thread dump.
            MasterStatus gone = cluster.awaitStatus(s -> !s.worker(1).leaving().contains(first), Duration.ofSeconds(40));
            long tookMs = (System.nanoTime() - started) / 1_000_000;
            cluster.await(l -> l.contains("(pid " + first + ") is hung: it is leaving, and the connections queued for "
                    + "it have waited"), 1, Cluster.START);
            System.out.printf("a worker hung while leaving (dispatch=%s): gone %d ms after it left its slot%n", dispatch,
                    tookMs);
            for (Socket socket : waiting) {
                String body = answer(socket);
                if (dispatch.equals("master")) {
                    assertEquals(Long.toString(successor), Clients.field(body, "pid"),
                            "what the hung worker never took goes to its successor: " + body);
                } else {
                    assertFalse(body.startsWith("pid="), "a queue cannot move between listening sockets: " + body);
                }
            }
            assertEquals(2, gone.workers().size());
        }
    }

    /**
     * health=: the master GETs the path from each worker through the shared
     * port; a worker that answers 503, or accepts the check and never
     * answers, while it still serves everything else, is taken for hung and
     * replaced; the healthy one is left alone.
     */
    @ParameterizedTest
    @ValueSource(strings = {"503 kernel", "silent kernel", "silent master"})
    void aWorkerThatFailsItsHealthCheckIsReplacedAndAHealthyOneIsNot(String illnessAndDispatch) throws Exception {
        String illness = illnessAndDispatch.split(" ")[0];
        String dispatch = illnessAndDispatch.split(" ")[1];
        try (Cluster cluster = Cluster.withAgent("workers=2,watchdog=3s,health=/health,dispatch=" + dispatch,
                HealthApp.class, "0")) {
            int port = cluster.awaitPort(2);
            List<InetAddress> sources = Clients.ipv4(16);
            Map<InetAddress, String> before = Routing.assertSticky(cluster, port, sources, 1, Clients::http);
            MasterStatus status = cluster.awaitStatus(s -> s.workers().size() == 2);
            long sick = Long.parseLong(before.get(sources.get(0)));
            int sickId = status.workers().stream().filter(w -> w.pid() == sick).findFirst().orElseThrow().id();
            long healthy = status.worker(3 - sickId).pid();
            assertEquals(204, status(sources.get(0), port, "/sick?" + illness));
            String why = illness.equals("503") ? "GET /health answered 'HTTP/1.1 503 Service Unavailable'"
                    : "GET /health got no answer within 3000 ms";
            cluster.await(l -> l.contains("ERROR sticky - worker " + sickId + " (pid " + sick + ") is hung: " + why),
                    1, Cluster.START);
            MasterStatus after = cluster.awaitStatus(MasterStatus.replaced(sickId, sick));
            assertEquals("hang", after.worker(sickId).lastReplaced());
            assertEquals(healthy, after.worker(3 - sickId).pid(), "the healthy worker stays");
            assertEquals(0, after.worker(3 - sickId).restarts());
        }
    }

    /** The status code of GET path from source. */
    private static int status(InetAddress source, int port, String path) throws IOException {
        try (Socket socket = Clients.connect(source, port)) {
            socket.getOutputStream().write(("GET " + path + " HTTP/1.0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            return Integer.parseInt(response.substring(9, 12));
        }
    }

    /** A single-threaded server that takes one connection every 20 ms, with 250 waiting for it: 5 s of queue. */
    @Test
    void aWorkerThatIsOnlySlowIsLeftAlone() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=1,watchdog=2s", SlowAcceptApp.class, "0")) {
            int port = cluster.awaitPort(1);
            InetAddress source = InetAddress.getByName("127.0.0.1");
            List<Socket> queued = new ArrayList<>();
            for (int i = 0; i < 250; i++) {
                queued.add(Clients.connect(source, port));
            }
            for (Socket socket : queued) {
                try (socket; InputStream in = socket.getInputStream()) {
                    assertTrue(new String(in.readAllBytes(), StandardCharsets.UTF_8).startsWith("pid="));
                }
            }
            assertFalse(cluster.output().contains("is hung"), cluster.output());
            assertEquals(0, cluster.awaitStatus(s -> s.workers().size() == 1).worker(1).restarts());
        }
    }

    /**
     * A debugger attached over JDWP suspends the worker (VirtualMachine.Suspend)
     * while its clients wait, past the watchdog's time: it is left alone, and
     * once resumed it serves them.
     */
    @Test
    void aWorkerADebuggerHoldsIsLeftAlone() throws Exception {
        int jdwp = JvmPortsTest.freePorts(2);
        try (Cluster cluster = Cluster.withAgent("workers=1,watchdog=2s",
                List.of("-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=127.0.0.1:" + jdwp),
                HangingHttpApp.class, "0")) {
            int port = cluster.awaitPort(1);
            InetAddress source = InetAddress.getByName("127.0.0.1");
            assertTrue(Clients.http(source, port).startsWith("pid=")); // it has taken a connection: watched
            try (Socket debugger = new Socket(InetAddress.getLoopbackAddress(), jdwp + 1)) {
                debugger.setSoTimeout(20_000);
                OutputStream out = debugger.getOutputStream();
                InputStream in = debugger.getInputStream();
                out.write("JDWP-Handshake".getBytes(StandardCharsets.US_ASCII));
                assertEquals("JDWP-Handshake", new String(in.readNBytes(14), StandardCharsets.US_ASCII));
                jdwpCommand(out, in, 1, 8); // VirtualMachine.Suspend
                CompletableFuture<String> waits = CompletableFuture.supplyAsync(() -> get(source, port, "/"), clients);
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(6);
                while (System.nanoTime() < until) { // three times the watchdog's time, suspended
                    assertFalse(waits.isDone(), "the worker is suspended: " + waits.getNow(null));
                    assertFalse(cluster.output().contains("is hung"), cluster.output());
                    Thread.sleep(200);
                }
                jdwpCommand(out, in, 1, 9); // VirtualMachine.Resume
                assertTrue(waits.get(30, TimeUnit.SECONDS).startsWith("pid="), "answered once resumed");
            }
            assertFalse(cluster.output().contains("is hung"), cluster.output());
            assertEquals(0, cluster.awaitStatus(s -> s.workers().size() == 1).worker(1).restarts());
        }
    }

    /** One JDWP command packet with no data (length, id, flags, command set, command), and its reply's error code. */
    private static void jdwpCommand(OutputStream out, InputStream in, int set, int command) throws IOException {
        out.write(ByteBuffer.allocate(11).putInt(11).putInt(1).put((byte) 0).put((byte) set).put((byte) command).array());
        ByteBuffer reply = ByteBuffer.wrap(in.readNBytes(11));
        assertEquals(0, reply.getShort(9), "JDWP error code of command " + set + "/" + command);
    }

    /** What socket's server sends until its end: the body of an HTTP answer, or what went wrong. */
    private static String answer(Socket socket) {
        try (socket) {
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return response.substring(response.indexOf("\r\n\r\n") + 4).trim();
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** GET path from source: the body, or what went wrong. */
    private static String get(InetAddress source, int port, String path) {
        try {
            return Clients.http(source, port, path);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
