package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import sticky.it.apps.GrpcApp;
import sticky.it.apps.NettyApp;
import sticky.it.apps.NettyClientBindApp;
import sticky.it.apps.NettyTransportsApp;
import sticky.it.apps.VertxApp;

/**
 * Real servers, unmodified, each in a small app that knows nothing of sticky,
 * with two workers: every client address keeps its worker, the application
 * sees the real client, a killed worker comes back in its slot with its
 * clients, and SIGTERM stops the cluster cleanly.
 */
@Timeout(240)
class FrameworksTest {
    @ParameterizedTest
    @ValueSource(strings = {"JettyApp", "TomcatApp", "UndertowApp", "NettyApp", "VertxApp"})
    void aServerIsClusteredStickyRestartedAndStopped(String app) throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2", Class.forName("sticky.it.apps." + app), "0")) {
            assertClusteredStickyRestartedAndStopped(cluster, app, Clients::http);
        }
    }

    /** Spring Boot as it is deployed: java -javaagent:sticky.jar -jar app.jar, its jar of jars. */
    @Test
    void springBootFromItsExecutableJar() throws Exception {
        Path jar = Path.of(System.getProperty("sticky.spring.boot.app"));
        try (Cluster cluster = Cluster.withAgentOnJar("workers=2", jar, "--server.port=0")) {
            assertClusteredStickyRestartedAndStopped(cluster, "Spring Boot", Clients::http);
        }
    }

    private static void assertClusteredStickyRestartedAndStopped(Cluster cluster, String app, Routing.Request request)
            throws Exception {
        int port = cluster.awaitPort(2);
        List<InetAddress> sources = ServerApisTest.sources();
        Map<InetAddress, String> before = Routing.assertSticky(cluster, port, sources, 3, request);
        Routing.killAWorkerAndAwaitItsReturn(cluster, port, sources, before, request);
        cluster.signal("TERM");
        Integer code = cluster.waitForExit(Duration.ofSeconds(60));
        assertNotNull(code, app + " did not stop");
        assertEquals(0, code.intValue(), app + " did not stop cleanly:\n" + cluster.output());
    }

    /**
     * WebSocket upgrades, held open: each client's WebSocket lands on the
     * worker that serves its HTTP requests, and stays open and on it while
     * HTTP traffic goes on.
     */
    @ParameterizedTest
    @ValueSource(strings = {"JettyApp", "TomcatApp", "UndertowApp", "NettyApp", "VertxApp"})
    void webSocketsAreStickyAndLongLived(String app) throws Exception {
        Class<?> main = Class.forName("sticky.it.apps." + app);
        try (Cluster cluster = Cluster.withAgent("workers=2", main, "0")) {
            int port = cluster.awaitPort(2);
            List<InetAddress> sources = Clients.ipv4(8);
            Map<InetAddress, String> workers = Routing.assertSticky(cluster, port, sources, 1, Clients::http);
            List<WebSocketClient> sockets = new java.util.ArrayList<>();
            try {
                for (InetAddress source : sources) {
                    WebSocketClient ws = new WebSocketClient(source, port, "/ws");
                    sockets.add(ws);
                    String reply = ws.echo("hello");
                    assertEquals(workers.get(source), Clients.field(reply, "pid"), app + ": " + source + "'s WebSocket");
                    assertEquals(source.getHostAddress(), Clients.field(reply, "peer"));
                    assertEquals("hello", Clients.field(reply, "echo"));
                }
                Routing.assertSticky(cluster, port, sources, 2, Clients::http);
                for (int i = 0; i < sources.size(); i++) {
                    String reply = sockets.get(i).echo("again");
                    assertEquals(workers.get(sources.get(i)), Clients.field(reply, "pid"), app + ": still on its worker");
                }
            } finally {
                for (WebSocketClient ws : sockets) {
                    ws.close();
                }
            }
        }
    }

    /**
     * Netty and Vert.x pick their native epoll transport when Netty says it is
     * available; in workers it is, and binds and accepts through sticky (the
     * slot's socket, or the master's handoff): every worker runs on it, its
     * accepted sockets are non-blocking as Netty's own accept makes them, and
     * the port is clustered.
     */
    @EachDispatch
    void nettyAndVertxRunOnTheirNativeTransportInWorkers(String dispatch) throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2,dispatch=" + dispatch, NettyApp.class, "0")) {
            int port = cluster.awaitPort(2);
            assertEquals(2, cluster.await(l -> l.equals("transport epoll"), 2, Cluster.START).size());
            assertTrue(cluster.output().lines().noneMatch(l -> l.equals("transport nio")), cluster.output());
            Routing.assertSticky(cluster, port, ServerApisTest.sources(), 2, Clients::http);
            assertEquals(2, cluster.await(l -> l.startsWith("child nonblocking "), 2, Cluster.START).size());
            assertTrue(cluster.output().lines().noneMatch(l -> l.equals("child nonblocking false")), cluster.output());
        }
        try (Cluster cluster = Cluster.withAgent("workers=2,dispatch=" + dispatch, VertxApp.class, "0")) {
            int port = cluster.awaitPort(2);
            assertEquals(2, cluster.await(l -> l.equals("transport native"), 2, Cluster.START).size());
            Routing.assertSticky(cluster, port, ServerApisTest.sources(), 2, Clients::http);
        }
    }

    /**
     * gRPC carries its own Netty (4.1, shaded under io.grpc.netty.shaded) and
     * runs it on epoll: its server is clustered, sticky, restarted and stopped
     * like the others.
     */
    @Test
    void grpcOnItsShadedNettysEpoll() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2", GrpcApp.class, "0")) {
            assertEquals(2, cluster.await(l -> l.equals("transport epoll"), 2, Cluster.START).size());
            assertClusteredStickyRestartedAndStopped(cluster, "gRPC", GrpcClient::who);
        }
    }

    /**
     * io_uring accepts through ring operations sticky cannot see: in workers
     * Netty reports it unavailable (where the plain JVM has it), so that
     * applications choosing by availability take epoll, which is clustered.
     */
    @Test
    void nettysIoUringIsOffInWorkersAndEpollOn() throws Exception {
        try (Cluster plain = Cluster.withoutAgent(NettyTransportsApp.class, "0")) {
            plain.await(l -> l.startsWith("io_uring "), 1, Cluster.START);
            assertTrue(plain.output().contains("io_uring true epoll true"),
                    "this test needs a machine where Netty's io_uring is available:\n" + plain.output());
        }
        try (Cluster cluster = Cluster.withAgent("workers=2", NettyTransportsApp.class, "0")) {
            assertEquals(2, cluster.await(l -> l.equals("io_uring false epoll true"), 2, Cluster.START).size());
            assertEquals(2, cluster.await(l -> l.startsWith("io_uring unavailable: ") && l.contains("sticky: io_uring is off"),
                    2, Cluster.START).size(), "Netty gives sticky's reason");
        }
    }

    /**
     * Netty binds client sockets with the same native call as server sockets:
     * a client that binds its source address before connecting keeps its own
     * bind (only a server channel's bind goes to the master) and connects.
     */
    @Test
    void aNettyClientsBindStaysItsOwn() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2", NettyClientBindApp.class, "0")) {
            int port = cluster.awaitPort(2);
            List<String> lines = cluster.await(l -> l.startsWith("client bound "), 2, Cluster.START);
            for (String line : lines) {
                assertTrue(line.matches("client bound /127\\.0\\.0\\.1:\\d+ got pid=\\d+ peer=127\\.0\\.0\\.1 port=\\d+ rcvbuf=0"), line);
                assertFalse(line.startsWith("client bound /127.0.0.1:" + port + " "), "the client got the server's port: " + line);
            }
        }
    }
}
