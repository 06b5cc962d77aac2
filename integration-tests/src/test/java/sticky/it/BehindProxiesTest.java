package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sticky.it.apps.ForwardedApp;
import sticky.it.apps.ProxyProtocolApp;

/**
 * route=proxy and route=header: behind a proxy every connection comes from
 * the proxy, yet each real client keeps its worker; headers from anyone but a
 * trusted proxy are ignored; and slow, silent or garbage clients never hold
 * the master up. Then real chains: HAProxy with PROXY protocol v2, nginx with
 * X-Forwarded-For, each in front of two sticky masters (two "hosts").
 */
@Timeout(240)
class BehindProxiesTest {
    static final String XFF = "route=header:X-Forwarded-For,trust=127.0.0.1";

    static String get(InetAddress source, int port, String forwardedFor) throws IOException {
        try (Socket socket = Clients.connect(source, port)) {
            String head = "GET / HTTP/1.0\r\nHost: x\r\n" + (forwardedFor == null ? "" : "X-Forwarded-For: " + forwardedFor + "\r\n")
                    + "\r\n";
            socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return response.substring(response.indexOf("\r\n\r\n") + 4).trim();
        }
    }

    @Test
    void aTrustedProxysHeaderRoutesAndAnyoneElsesIsIgnored() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2," + XFF, ForwardedApp.class, "0")) {
            int port = cluster.awaitPort(2);
            InetAddress proxy = InetAddress.getByName("127.0.0.1");
            Map<String, Set<String>> byClient = new HashMap<>();
            for (int round = 0; round < 3; round++) {
                for (int i = 1; i <= 16; i++) {
                    String client = "203.0.113." + i;
                    String reply = get(proxy, port, "198.51.100.99, " + client);
                    assertEquals("198.51.100.99," + client, Clients.field(reply, "forwarded"), "the stream is untouched");
                    byClient.computeIfAbsent(client, c -> new HashSet<>()).add(Clients.field(reply, "pid"));
                }
            }
            byClient.forEach((client, pids) -> assertEquals(1, pids.size(), client + " moved: " + pids));
            assertTrue(byClient.values().stream().flatMap(Set::stream).distinct().count() > 1,
                    "behind one proxy, clients must still spread over the workers: " + byClient);

            // Not a trusted proxy: whatever it claims, it is routed by its own address.
            InetAddress stranger = InetAddress.getByName("127.0.0.5");
            String own = Clients.field(get(stranger, port, null), "pid");
            for (int i = 1; i <= 16; i++) {
                assertEquals(own, Clients.field(get(stranger, port, "203.0.113." + i), "pid"), "a forged header moved a client");
            }
        }
    }

    @Test
    void silentSlowAndGarbageClientsNeverHoldUpTheMaster() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2," + XFF, ForwardedApp.class, "0")) {
            int port = cluster.awaitPort(2);
            InetAddress proxy = InetAddress.getByName("127.0.0.1");
            String expected = Clients.field(get(proxy, port, "203.0.113.77"), "pid");
            List<Socket> silent = new ArrayList<>();
            try {
                // Fifty connections from the trusted proxy that say nothing: each waits up to the peek
                // timeout. Were they waited for one after the other, what follows would time out.
                for (int i = 0; i < 50; i++) {
                    silent.add(Clients.connect(proxy, port));
                }
                for (int i = 0; i < 20; i++) {
                    assertEquals(expected, Clients.field(get(proxy, port, "203.0.113.77"), "pid"));
                }
                // A head sent a byte at a time is read once complete.
                try (Socket slow = Clients.connect(proxy, port)) {
                    OutputStream out = slow.getOutputStream();
                    for (byte b : "GET / HTTP/1.0\r\nX-Forwarded-For: 203.0.113.77\r\n\r\n".getBytes(StandardCharsets.US_ASCII)) {
                        out.write(b);
                        out.flush();
                        Thread.sleep(5);
                    }
                    String response = new String(slow.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    assertEquals(expected, Clients.field(response.substring(response.indexOf("\r\n\r\n") + 4).trim(), "pid"));
                }
                // Garbage and TLS-looking bytes go to a worker by the TCP peer; the master carries on.
                for (byte[] junk : List.of(new byte[] {0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5}, new byte[5000])) {
                    try (Socket s = Clients.connect(proxy, port)) {
                        s.getOutputStream().write(junk);
                        s.shutdownOutput();
                        s.getInputStream().readAllBytes();
                    } catch (IOException reset) {
                        // the server may reset a connection it cannot parse: that is the application's right
                    }
                }
                assertEquals(expected, Clients.field(get(proxy, port, "203.0.113.77"), "pid"));
            } finally {
                for (Socket s : silent) {
                    s.close();
                }
            }
        }
    }

    @Test
    void haproxyWithProxyProtocolInFrontOfTwoMasters() throws Exception {
        try (Cluster a = Cluster.withAgent("workers=2,route=proxy,trust=127.0.0.1", ProxyProtocolApp.class, "0");
                Cluster b = Cluster.withAgent("workers=2,route=proxy,trust=127.0.0.1", ProxyProtocolApp.class, "0")) {
            try (ProxyProcess haproxy = ProxyProcess.haproxy(a.awaitPort(2), b.awaitPort(2))) {
                assertEndToEnd(haproxy.port, a, b, Clients::line, "peer");
            }
        }
    }

    @Test
    void nginxWithXForwardedForInFrontOfTwoMasters() throws Exception {
        try (Cluster a = Cluster.withAgent("workers=2," + XFF, ForwardedApp.class, "0");
                Cluster b = Cluster.withAgent("workers=2," + XFF, ForwardedApp.class, "0")) {
            try (ProxyProcess nginx = ProxyProcess.nginx(a.awaitPort(2), b.awaitPort(2))) {
                assertEndToEnd(nginx.port, a, b, Clients::http, "forwarded");
            }
        }
    }

    /**
     * 16 clients, 3 rounds each: every client stays on one host and one worker,
     * the application learns the real client (in clientField), and both hosts
     * and several workers serve.
     */
    private static void assertEndToEnd(int port, Cluster a, Cluster b, Routing.Request request, String clientField)
            throws Exception {
        Set<String> workersOfA = a.workers().stream().map(p -> Long.toString(p.pid())).collect(Collectors.toSet());
        Set<String> workersOfB = b.workers().stream().map(p -> Long.toString(p.pid())).collect(Collectors.toSet());
        Map<InetAddress, Set<String>> seen = new HashMap<>();
        for (int round = 0; round < 3; round++) {
            for (InetAddress source : Clients.ipv4(16)) {
                String reply = request.send(source, port);
                assertEquals(source.getHostAddress(), Clients.field(reply, clientField), "the client as the application sees it");
                seen.computeIfAbsent(source, s -> new HashSet<>()).add(Clients.field(reply, "pid"));
            }
        }
        seen.forEach((source, pids) -> assertEquals(1, pids.size(), source + " moved: " + pids));
        Set<String> used = seen.values().stream().flatMap(Set::stream).collect(Collectors.toSet());
        assertTrue(used.stream().anyMatch(workersOfA::contains) && used.stream().anyMatch(workersOfB::contains),
                "both hosts serve: " + used + " of " + workersOfA + " and " + workersOfB);
        assertTrue(used.size() > 2, "clients spread over the workers of each host: " + used);
    }
}
