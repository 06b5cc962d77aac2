package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import sticky.it.apps.HttpServerApp;

/**
 * Under master dispatch (the path of route=proxy and route=header), a worker
 * that takes its connections slowly keeps them: none is closed and none goes
 * to another worker. Here the worker is stopped (SIGSTOP) while its clients
 * connect, far more of them than its handoff channel holds (about 278), and
 * every one is answered by that worker once it runs again.
 */
@Timeout(300)
class SlowWorkerTest {
    private static final InetAddress PROXY = address("127.0.0.1");

    @ParameterizedTest
    @ValueSource(strings = {"dispatch=master", BehindProxiesTest.XFF})
    void aStoppedWorkersClientsWaitForItNeitherClosedNorMoved(String options) throws Exception {
        boolean behindProxy = options.startsWith("route=header");
        try (Cluster cluster = Cluster.withAgent("workers=2," + options, HttpServerApp.class, "0")) {
            int port = cluster.awaitPort(2);
            InetAddress source = behindProxy ? PROXY : address("127.0.0.9");
            String forwarded = behindProxy ? "203.0.113.9" : null;
            String pid = Clients.field(BehindProxiesTest.get(source, port, forwarded), "pid");
            List<Socket> clients = new ArrayList<>();
            signal(pid, "STOP");
            try {
                for (int i = 0; i < 1500; i++) {
                    clients.add(request(source, port, forwarded));
                }
            } finally {
                signal(pid, "CONT");
            }
            assertEquals(Map.of(pid, 1500), answers(clients), "who answered the 1500");
        }
    }

    /**
     * Past what the master keeps waiting ({@code HandoffQueue.LIMIT}, 4096 per
     * listener) it stops accepting, says so, and connections wait in the
     * kernel's backlog (the clients' SYNs are retried): still none is lost.
     */
    @Test
    void pastTheMastersLimitConnectionsWaitInTheKernelsBacklog() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2,dispatch=master", HttpServerApp.class, "0")) {
            int port = cluster.awaitPort(2);
            InetAddress source = address("127.0.0.9");
            String pid = Clients.field(BehindProxiesTest.get(source, port, null), "pid");
            int count = 6000;
            List<Socket> clients = new ArrayList<>();
            signal(pid, "STOP");
            CompletableFuture<Void> connected;
            try {
                connected = CompletableFuture.runAsync(() -> {
                    try {
                        for (int i = 0; i < count; i++) {
                            clients.add(request(source, port, null));
                        }
                    } catch (IOException e) {
                        throw new IllegalStateException("connection " + clients.size() + " failed", e);
                    }
                });
                cluster.await(l -> l.contains("connections to ") && l.contains(" wait in the master for workers slow to "
                        + "take them; accepting no more until they do"), 1, Cluster.START);
            } finally {
                signal(pid, "CONT");
            }
            connected.join();
            assertEquals(Map.of(pid, count), answers(clients), "who answered the " + count);
        }
    }

    private static Socket request(InetAddress source, int port, String forwarded) throws IOException {
        Socket socket = Clients.connect(source, port);
        String head = "GET / HTTP/1.0\r\nHost: x\r\n" + (forwarded == null ? "" : "X-Forwarded-For: " + forwarded + "\r\n")
                + "\r\n";
        socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
        return socket;
    }

    /** Reads every answer: how many each worker (by pid) gave; a connection closed without one fails the test. */
    private static Map<String, Integer> answers(List<Socket> clients) throws IOException {
        Map<String, Integer> byPid = new TreeMap<>();
        for (int i = 0; i < clients.size(); i++) {
            try (Socket socket = clients.get(i); InputStream in = socket.getInputStream()) {
                String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                if (!response.startsWith("HTTP/1.1 200")) {
                    fail("connection " + i + " of " + clients.size() + " got no answer: '" + response + "'");
                }
                byPid.merge(Clients.field(response.substring(response.indexOf("\r\n\r\n") + 4).trim(), "pid"), 1,
                        Integer::sum);
            }
        }
        return byPid;
    }

    private static void signal(String pid, String name) throws IOException, InterruptedException {
        if (new ProcessBuilder("kill", "-" + name, pid).inheritIO().start().waitFor() != 0) {
            fail("kill -" + name + " " + pid + " failed");
        }
    }

    private static InetAddress address(String name) {
        try {
            return InetAddress.getByName(name);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
