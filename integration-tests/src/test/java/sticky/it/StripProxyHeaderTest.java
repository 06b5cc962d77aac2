package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sticky.it.apps.EchoHttpApp;
import sticky.it.apps.FirstLineApp;
import sticky.it.apps.NettyApp;
import sticky.it.apps.TomcatApp;

/**
 * proxy-header=strip: behind HAProxy's send-proxy (v1) and send-proxy-v2,
 * applications that know nothing of the PROXY protocol (the JDK HttpServer,
 * Tomcat, Netty, a plain ServerSocket) get the stream without the header and
 * see the real client, address and port, as the connection's peer; under
 * load no byte of a request is lost or doubled. Headers from an untrusted
 * peer are neither stripped nor believed; a malformed or incomplete one
 * closes the connection before the application sees a byte.
 */
@Timeout(400)
class StripProxyHeaderTest {
    static final String STRIP = "workers=2,route=proxy,trust=127.0.0.1,proxy-header=strip";
    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    @Test
    void behindHaproxyEachServerApiSeesTheRealClient() throws Exception {
        for (Class<?> app : List.of(EchoHttpApp.class, TomcatApp.class, NettyApp.class)) {
            try (Cluster cluster = Cluster.withAgent(STRIP, app, "0")) {
                int port = cluster.awaitPort(2);
                Set<String> workers = pids(cluster);
                for (String sendProxy : List.of("send-proxy", "send-proxy-v2")) {
                    try (ProxyProcess haproxy = ProxyProcess.haproxy(sendProxy, port)) {
                        String where = app.getSimpleName() + " behind " + sendProxy;
                        Map<InetAddress, Set<String>> seen = new HashMap<>();
                        for (int round = 0; round < 3; round++) {
                            for (InetAddress source : Clients.ipv4(16)) {
                                try (Socket socket = Clients.connect(source, haproxy.port)) {
                                    String reply = get(socket, "/");
                                    assertEquals(source.getHostAddress(), Clients.field(reply, "peer"), where + ": " + reply);
                                    assertEquals(Integer.toString(socket.getLocalPort()), Clients.field(reply, "port"),
                                            where + ": the client's port: " + reply);
                                    seen.computeIfAbsent(source, s -> new HashSet<>()).add(Clients.field(reply, "pid"));
                                }
                            }
                        }
                        seen.forEach((source, pids) -> assertEquals(1, pids.size(), where + ": " + source + " moved"));
                        Set<String> used = seen.values().stream().flatMap(Set::stream).collect(Collectors.toSet());
                        assertEquals(workers, used, where + ": both workers serve, and only they");
                    }
                }
            }
        }
    }

    /**
     * 8 clients at once, each 25 connections of 5 keep-alive POSTs with
     * random bodies of up to 20 kB, through HAProxy v1 and v2: every answer
     * echoes its own path and body exactly, and names the client.
     */
    @Test
    void underLoadNoByteOfARequestIsLostOrDoubled() throws Exception {
        try (Cluster cluster = Cluster.withAgent(STRIP, EchoHttpApp.class, "0")) {
            int port = cluster.awaitPort(2);
            for (String sendProxy : List.of("send-proxy", "send-proxy-v2")) {
                try (ProxyProcess haproxy = ProxyProcess.haproxy(sendProxy, port)) {
                    ExecutorService clients = Executors.newFixedThreadPool(8);
                    try {
                        List<Future<Integer>> done = new ArrayList<>();
                        List<InetAddress> sources = Clients.ipv4(8);
                        for (int t = 0; t < 8; t++) {
                            int client = t;
                            done.add(clients.submit(() -> posts(sources.get(client), haproxy.port, client, 25, 5)));
                        }
                        int answered = 0;
                        for (Future<Integer> f : done) {
                            answered += f.get();
                        }
                        assertEquals(8 * 25 * 5, answered, sendProxy);
                    } finally {
                        clients.shutdownNow();
                    }
                }
            }
        }
    }

    @Test
    void fromTheTrustedPeerOnlyAWholeWellFormedHeaderIsStripped() throws Exception {
        try (Cluster cluster = Cluster.withAgent(STRIP, FirstLineApp.class, "0")) {
            int port = cluster.awaitPort(2);
            InetAddress proxy = InetAddress.getByName("127.0.0.1");

            String reply = send(proxy, port, ascii("PROXY TCP4 203.0.113.9 127.0.0.1 41234 " + port + "\r\nHELLO\n"));
            assertEquals(List.of("203.0.113.9", "41234", "HELLO"), seen(reply), "v1: " + reply);

            reply = send(proxy, port, ascii("PROXY TCP4 203.0.113.9 12"), ascii("7.0.0.1 41234 " + port + "\r\nHELLO\n"));
            assertEquals(List.of("203.0.113.9", "41234", "HELLO"), seen(reply), "v1 in two pieces: " + reply);

            byte[] tlvs = v2(1, new byte[] {(byte) 198, 51, 100, 7}, 300);
            reply = send(proxy, port, concat(tlvs, ascii("HELLO\n")));
            assertEquals(List.of("198.51.100.7", "40000", "HELLO"), seen(reply), "v2 with 300 bytes of TLVs: " + reply);

            reply = send(proxy, port, Arrays.copyOf(tlvs, 40), concat(Arrays.copyOfRange(tlvs, 40, tlvs.length),
                    ascii("HELLO\n")));
            assertEquals(List.of("198.51.100.7", "40000", "HELLO"), seen(reply), "v2, its TLVs later: " + reply);

            try (Socket socket = Clients.connect(proxy, port)) {
                reply = send(socket, concat(v2(0, new byte[4], 0), ascii("HELLO\n")));
                assertEquals(List.of("127.0.0.1", Integer.toString(socket.getLocalPort()), "HELLO"), seen(reply),
                        "v2 LOCAL: the balancer is the peer: " + reply);
            }
            reply = send(proxy, port, ascii("PROXY UNKNOWN\r\nHELLO\n"));
            assertEquals(List.of("127.0.0.1", "HELLO"), List.of(seen(reply).get(0), seen(reply).get(2)), "v1 UNKNOWN: " + reply);
            reply = send(proxy, port, ascii("HELLO\n"));
            assertEquals(List.of("127.0.0.1", "HELLO"), List.of(seen(reply).get(0), seen(reply).get(2)),
                    "no header at all: passed on untouched: " + reply);

            assertEquals("", send(proxy, port, ascii("PROXY TCP4 203.0.113.9 127.0.0.1 99999 80\r\nHELLO\n")),
                    "a malformed header closes the connection unanswered");
            byte[] badVersion = v2(1, new byte[] {1, 2, 3, 4}, 0);
            badVersion[12] = 0x31;
            assertEquals("", send(proxy, port, concat(badVersion, ascii("HELLO\n"))), "v2 of version 3");
            long start = System.nanoTime();
            assertEquals("", send(proxy, port, ascii("PROXY TCP4 203.0.113.9")), "an incomplete header, then silence");
            assertTrue(System.nanoTime() - start >= 900_000_000L, "closed only once the peek times out");
            cluster.await(l -> l.contains("closed a connection from 127.0.0.1 that sent a malformed or incomplete PROXY "
                    + "header"), 1, Cluster.START);

            // Not a trusted proxy: its header reaches the application as it was sent, and its peer is its own.
            InetAddress stranger = InetAddress.getByName("127.0.0.5");
            reply = send(stranger, port, ascii("PROXY TCP4 203.0.113.9 127.0.0.1 41234 " + port + "\r\n"));
            assertEquals("127.0.0.5", Clients.field(reply, "peer"), reply);
            assertEquals("PROXY_TCP4_203.0.113.9_127.0.0.1_41234_" + port, Clients.field(reply, "first"), reply);

            assertEquals(List.of("203.0.113.9", "41234", "HELLO"),
                    seen(send(proxy, port, ascii("PROXY TCP4 203.0.113.9 127.0.0.1 41234 " + port + "\r\nHELLO\n"))),
                    "the master serves on");
        }
    }

    /** One client's connections of keep-alive POSTs, each answer checked; returns how many were answered. */
    private static int posts(InetAddress source, int port, int client, int connections, int requests) throws IOException {
        Random random = new Random(client);
        int answered = 0;
        for (int c = 0; c < connections; c++) {
            try (Socket socket = Clients.connect(source, port)) {
                OutputStream out = socket.getOutputStream();
                DataInputStream in = new DataInputStream(socket.getInputStream());
                for (int r = 0; r < requests; r++) {
                    String path = "/c" + client + "/" + c + "/" + r;
                    byte[] body = new byte[random.nextInt(20_000)];
                    random.nextBytes(body);
                    out.write(ascii("POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length + "\r\n\r\n"));
                    out.write(body);
                    out.flush();
                    byte[] answer = response(in);
                    String line = new String(answer, 0, indexOf(answer, (byte) '\n', 0), StandardCharsets.UTF_8);
                    assertEquals(source.getHostAddress(), Clients.field(line, "peer"), line);
                    assertEquals(Integer.toString(socket.getLocalPort()), Clients.field(line, "port"), line);
                    byte[] expected = concat(ascii(line + "\npath=" + path + "\n"), body);
                    assertTrue(Arrays.equals(expected, answer), path + ": the answer does not echo the request exactly");
                    answered++;
                }
            }
        }
        return answered;
    }

    /** An HTTP/1.1 response's body, read by its Content-Length; it must be a 200. */
    private static byte[] response(DataInputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("the connection ended in a response's head: " + head);
            }
            head.write(b);
        }
        String text = head.toString(StandardCharsets.ISO_8859_1);
        assertTrue(text.startsWith("HTTP/1.1 200"), text);
        int length = Clients.contentLength(text);
        assertTrue(length >= 0, "no Content-Length: " + text);
        byte[] body = new byte[length];
        in.readFully(body);
        return body;
    }

    /** GET path with Connection: close; the body of a 200. */
    private static String get(Socket socket, String path) throws IOException {
        socket.getOutputStream().write(ascii("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(response.startsWith("HTTP/1.1 200"), response);
        return response.substring(response.indexOf("\r\n\r\n") + 4).trim();
    }

    /** Sends the pieces from source, 100 ms apart (a client slow to send its header); the whole answer. */
    private static String send(InetAddress source, int port, byte[]... pieces) throws IOException, InterruptedException {
        try (Socket socket = Clients.connect(source, port)) {
            return send(socket, pieces);
        }
    }

    private static String send(Socket socket, byte[]... pieces) throws IOException, InterruptedException {
        for (int i = 0; i < pieces.length; i++) {
            if (i > 0) {
                Thread.sleep(100);
            }
            socket.getOutputStream().write(pieces[i]);
            socket.getOutputStream().flush();
        }
        return new String(readAll(socket.getInputStream()), StandardCharsets.UTF_8).trim();
    }

    /** Everything until the end of the stream; a reset after nothing counts as nothing. */
    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            in.transferTo(bytes);
        } catch (java.net.SocketException reset) {
            if (bytes.size() > 0) {
                throw reset;
            }
        }
        return bytes.toByteArray();
    }

    /** What FirstLineApp saw: peer, port, first line (spaces as '_'). */
    private static List<String> seen(String reply) {
        return List.of(Clients.field(reply, "peer"), Clients.field(reply, "port"), Clients.field(reply, "first"));
    }

    /** A v2 header, PROXY (1) or LOCAL (0), TCP over IPv4 from source port 40000, with tlvBytes of NOOP TLVs. */
    private static byte[] v2(int command, byte[] source, int tlvBytes) {
        ByteBuffer b = ByteBuffer.allocate(16 + 12 + tlvBytes);
        b.put(V2_SIGNATURE).put((byte) (0x20 | command)).put((byte) 0x11).putShort((short) (12 + tlvBytes));
        b.put(source).put(new byte[] {127, 0, 0, 1}).putShort((short) 40000).putShort((short) 80);
        for (int left = tlvBytes; left > 0; ) {
            int value = Math.min(left - 3, 1000);
            b.put((byte) 0x04).putShort((short) value).put(new byte[value]); // PP2_TYPE_NOOP
            left -= 3 + value;
        }
        return b.array();
    }

    private static Set<String> pids(Cluster cluster) {
        return cluster.workers().stream().map(p -> Long.toString(p.pid())).collect(Collectors.toSet());
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    private static int indexOf(byte[] bytes, byte b, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        throw new AssertionError("no line in the answer");
    }
}
