package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.socket.client.IO;
import io.socket.client.Socket;
import io.socket.engineio.client.transports.Polling;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.SocketFactory;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sticky.it.apps.SocketIoApp;

/**
 * Socket.IO on the long-polling transport: each handshake takes several HTTP
 * requests, on more than one connection. With sticky routing every client's
 * requests reach its one worker and the session works; with plain
 * round-robin, as Node's cluster does, they scatter and handshakes fail.
 */
@Timeout(240)
class SocketIoTest {
    private static final int MESSAGES = 3;

    @Test
    void longPollingClientsFromManyAddressesAtOnceAllConnectAndTalk() throws Exception {
        int port = JvmPortsTest.freePorts(1);
        try (Cluster cluster = Cluster.withAgent("workers=2", SocketIoApp.class, Integer.toString(port))) {
            cluster.awaitPort(2);
            List<InetAddress> sources = Clients.ipv4(8);
            ExecutorService pool = Executors.newFixedThreadPool(sources.size());
            try {
                List<Future<List<String>>> sessions = new ArrayList<>();
                for (InetAddress source : sources) {
                    sessions.add(pool.submit(() -> session(source, port)));
                }
                Map<String, String> pidBySource = new ConcurrentHashMap<>();
                for (int i = 0; i < sources.size(); i++) {
                    List<String> replies = sessions.get(i).get(60, TimeUnit.SECONDS);
                    assertEquals(MESSAGES, replies.size(), "replies to " + sources.get(i));
                    for (String reply : replies) {
                        assertEquals(sources.get(i).getHostAddress(), Clients.field(reply, "peer"));
                        pidBySource.merge(sources.get(i).getHostAddress(), Clients.field(reply, "pid"), (a, b) -> {
                            assertEquals(a, b, "one session, one worker");
                            return a;
                        });
                    }
                }
                assertTrue(pidBySource.values().stream().distinct().count() > 1, "both workers serve: " + pidBySource);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void withoutStickyRoutingTheLongPollingHandshakeBreaks() throws Exception {
        int port = JvmPortsTest.freePorts(1);
        try (Cluster cluster = Cluster.withAgent("workers=2,route=round-robin", SocketIoApp.class, Integer.toString(port))) {
            cluster.awaitPort(2);
            int failed = 0;
            List<String> why = new ArrayList<>();
            for (InetAddress source : Clients.ipv4(8)) {
                try {
                    session(source, port);
                } catch (IOException e) {
                    failed++;
                    why.add(e.getMessage());
                }
            }
            System.out.println("round-robin: " + failed + " of 8 Socket.IO sessions failed: " + why);
            assertTrue(failed > 0, "round-robin should have broken at least one long-polling session");
        }
    }

    /** Connects from source on long-polling only, sends MESSAGES hellos, returns the replies. */
    static List<String> session(InetAddress source, int port) throws Exception {
        OkHttpClient http = new OkHttpClient.Builder().socketFactory(new BoundSocketFactory(source)).build();
        IO.Options options = new IO.Options();
        options.transports = new String[] {Polling.NAME};
        options.forceNew = true;
        options.reconnection = false;
        options.timeout = 20_000;
        options.callFactory = http;
        options.webSocketFactory = http;
        Socket socket = IO.socket(URI.create("http://127.0.0.1:" + port), options);
        List<String> replies = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        AtomicReference<String> error = new AtomicReference<>();
        socket.on(Socket.EVENT_CONNECT, args -> {
            for (int i = 0; i < MESSAGES; i++) {
                socket.emit("hello", "message-" + i);
            }
        });
        socket.on("reply", args -> {
            synchronized (replies) {
                replies.add((String) args[0]);
                if (replies.size() == MESSAGES) {
                    done.countDown();
                }
            }
        });
        socket.on(Socket.EVENT_CONNECT_ERROR, args -> {
            error.set("connect error: " + (args.length > 0 ? args[0] : ""));
            done.countDown();
        });
        socket.on(Socket.EVENT_DISCONNECT, args -> {
            error.compareAndSet(null, "disconnected: " + (args.length > 0 ? args[0] : ""));
            done.countDown();
        });
        try {
            socket.connect();
            if (!done.await(30, TimeUnit.SECONDS)) {
                throw new IOException("no replies in 30 s from " + source);
            }
            synchronized (replies) {
                if (replies.size() < MESSAGES) {
                    throw new IOException(error.get() == null ? "incomplete" : error.get());
                }
                return new ArrayList<>(replies);
            }
        } finally {
            socket.close();
            http.dispatcher().executorService().shutdown();
            http.connectionPool().evictAll();
        }
    }

    /** Sockets bound to one loopback source address, so that each client looks like a different machine. */
    private static final class BoundSocketFactory extends SocketFactory {
        private final InetAddress source;

        BoundSocketFactory(InetAddress source) {
            this.source = source;
        }

        @Override
        public java.net.Socket createSocket() throws IOException {
            java.net.Socket socket = new java.net.Socket();
            socket.bind(new InetSocketAddress(source, 0));
            return socket;
        }

        @Override
        public java.net.Socket createSocket(String host, int port) throws IOException {
            return connected(new InetSocketAddress(host, port));
        }

        @Override
        public java.net.Socket createSocket(String host, int port, InetAddress local, int localPort) throws IOException {
            return connected(new InetSocketAddress(host, port));
        }

        @Override
        public java.net.Socket createSocket(InetAddress host, int port) throws IOException {
            return connected(new InetSocketAddress(host, port));
        }

        @Override
        public java.net.Socket createSocket(InetAddress host, int port, InetAddress local, int localPort) throws IOException {
            return connected(new InetSocketAddress(host, port));
        }

        private java.net.Socket connected(InetSocketAddress target) throws IOException {
            java.net.Socket socket = createSocket();
            socket.connect(target);
            return socket;
        }
    }
}
