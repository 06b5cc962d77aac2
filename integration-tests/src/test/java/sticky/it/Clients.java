package sticky.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Real clients on loopback, each bound to a chosen source address so it looks like a distinct client. */
final class Clients {
    private Clients() {}

    /** 127.0.0.1, 127.0.0.2 and on, n of them (127.0.1.0 follows 127.0.0.255: all of 127/8 is loopback on Linux). */
    static List<InetAddress> ipv4(int n) throws UnknownHostException {
        List<InetAddress> sources = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            sources.add(InetAddress.getByAddress(new byte[] {127, 0, (byte) (i >> 8), (byte) i}));
        }
        return sources;
    }

    static InetAddress ipv6Loopback() throws UnknownHostException {
        return InetAddress.getByName("::1");
    }

    /** Connects from source to the loopback of the same family and returns everything the server sent. */
    static String line(InetAddress source, int port) throws IOException {
        try (Socket socket = connect(source, port)) {
            return new String(readAll(socket.getInputStream()), StandardCharsets.UTF_8).trim();
        }
    }

    /** One HTTP/1.0 GET from source; returns the body. */
    static String http(InetAddress source, int port) throws IOException {
        return http(source, port, "/");
    }

    /** One HTTP/1.0 GET of path from source; returns the body. */
    static String http(InetAddress source, int port, String path) throws IOException {
        try (Socket socket = connect(source, port)) {
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            byte[] bytes = readAll(socket.getInputStream());
            String response = new String(bytes, StandardCharsets.ISO_8859_1);
            if (!response.startsWith("HTTP/1.1 200") && !response.startsWith("HTTP/1.0 200")) {
                throw new IOException("unexpected response: " + response);
            }
            int bodyAt = response.indexOf("\r\n\r\n") + 4;
            // A client sees an answer cut short (its server died in the middle) as a failure, not as an answer.
            if (bytes.length - bodyAt < contentLength(response.substring(0, bodyAt))) {
                throw new IOException("answer cut short: " + response);
            }
            return new String(bytes, bodyAt, bytes.length - bodyAt, StandardCharsets.UTF_8).trim();
        }
    }

    /** GET path (HTTP/1.0) from 127.0.0.1, in the background: the whole answer as text, or what went wrong. */
    static CompletableFuture<String> getLater(int port, String path) {
        return CompletableFuture.supplyAsync(() -> {
            try (Socket socket = connect(InetAddress.getByName("127.0.0.1"), port)) {
                socket.getOutputStream().write(("GET " + path + " HTTP/1.0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
                return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (Exception e) {
                return e.toString();
            }
        });
    }

    /** n keep-alive connections from source, each answered once and held open (the server keeps them). */
    static List<Socket> holdOpen(InetAddress source, int port, int n) throws IOException {
        List<Socket> held = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            Socket s = connect(source, port);
            held.add(s);
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            s.getInputStream().read(); // answered: the server holds it open now
        }
        return held;
    }

    static Socket connect(InetAddress source, int port) throws IOException {
        Socket socket = new Socket();
        socket.setSoTimeout(20_000);
        socket.bind(new InetSocketAddress(source, 0));
        socket.connect(new InetSocketAddress(loopbackFor(source), port), 20_000);
        return socket;
    }

    /** The loopback address of source's family: where a client from source connects. */
    static InetAddress loopbackFor(InetAddress source) throws IOException {
        return source.getAddress().length == 4 ? InetAddress.getByName("127.0.0.1") : ipv6Loopback();
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        in.transferTo(bytes);
        return bytes.toByteArray();
    }

    /** A response head's Content-Length, or -1 without one. */
    static int contentLength(String head) {
        int length = -1;
        for (String line : head.split("\r\n")) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        return length;
    }

    /** The value of key in a reply line such as "pid=12 peer=127.0.0.3 port=40000 rcvbuf=0". */
    static String field(String reply, String key) {
        for (String part : reply.split(" ")) {
            if (part.startsWith(key + "=")) {
                return part.substring(key.length() + 1);
            }
        }
        throw new AssertionError("no " + key + " in reply: " + reply);
    }
}
