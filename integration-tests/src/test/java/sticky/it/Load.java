package sticky.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Sustained HTTP load on loopback, bounded by {@link #close()}: threads that
 * open a new connection per request (HTTP/1.0), and threads that keep one
 * HTTP/1.1 connection and send request after request on it. A keep-alive
 * thread whose reused connection is closed before any byte of an answer opens
 * a new one and sends the request again, as HTTP clients do for idempotent
 * requests (RFC 9112, 9.3.1); anything else that goes wrong is a failure.
 *
 * <p>Paced: {@value #RATE} requests a second in all, spread over the threads,
 * not as many as the machine can take. A load that saturates this 2-core
 * machine tests the machine: it starves the cluster's own work (a rolling
 * restart of two workers took 6 to 10 s under it, 3 to 4 s under this one,
 * with some 800 to 1,500 requests during it) and the test classes running
 * alongside. Throughput is the benchmark's (bench/run).
 */
final class Load implements AutoCloseable {
    /** Requests a second, all threads together. */
    private static final int RATE = 500;
    private final int port;
    /** The time between two requests of one thread. */
    private final long intervalNanos;
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicLong requests = new AtomicLong();
    private final List<String> failures = Collections.synchronizedList(new ArrayList<>());
    private final Map<InetAddress, Set<String>> pids = new ConcurrentHashMap<>();
    /** The churn sources: one request at a time each. */
    private final List<InetAddress> sources;
    private volatile boolean running = true;

    Load(int port, List<InetAddress> churnSources, List<InetAddress> keepAliveSources) {
        this.port = port;
        this.sources = List.copyOf(churnSources);
        this.intervalNanos = 1_000_000_000L * (churnSources.size() + keepAliveSources.size()) / RATE;
        churnSources.forEach(s -> start("churn-" + s.getHostAddress(), () -> churn(s)));
        keepAliveSources.forEach(s -> start("keepalive-" + s.getHostAddress(), () -> keepAlive(s)));
    }

    private void start(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    long requests() {
        return requests.get();
    }

    List<String> failures() {
        return List.copyOf(failures);
    }

    /** The worker pids each source was served by. */
    Map<InetAddress, Set<String>> pids() {
        return pids;
    }

    /**
     * Waits until every source has been served by one of these workers: each
     * source's requests are sequential, so whatever it had in flight before
     * (a request lost to a kill, say) has then ended, failures included.
     */
    void awaitEverySourceServedBy(Set<Long> workers, java.time.Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!sources.stream().allMatch(s -> pids.getOrDefault(s, Set.of()).stream()
                .anyMatch(pid -> workers.contains(Long.parseLong(pid))))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not every source was served by " + workers + " within " + timeout + ": "
                        + pids + ", failures " + failures());
            }
            Thread.sleep(10);
        }
    }

    private void served(InetAddress source, String body) throws IOException {
        if (!(" " + body).contains(" pid=")) {
            throw new IOException("an answer without the worker's pid: '" + body + "'"); // a failure, not a dead thread
        }
        requests.incrementAndGet();
        pids.computeIfAbsent(source, s -> ConcurrentHashMap.newKeySet()).add(Clients.field(body, "pid"));
    }

    /** Waits for this thread's next turn, next[0]: one interval after the last, or now if that has passed. */
    private void pace(long[] next) {
        long now = System.nanoTime();
        next[0] = Math.max(next[0] + intervalNanos, now);
        LockSupport.parkNanos(next[0] - now);
    }

    private void churn(InetAddress source) {
        long[] next = {System.nanoTime()};
        while (running) {
            try {
                served(source, Clients.http(source, port));
            } catch (IOException | RuntimeException e) {
                failures.add("new connection from " + source.getHostAddress() + ": " + e);
            }
            pace(next);
        }
    }

    private void keepAlive(InetAddress source) {
        Socket socket = null;
        boolean reused = false;
        long[] next = {System.nanoTime()};
        while (running) {
            try {
                if (socket == null) {
                    socket = Clients.connect(source, port);
                    reused = false;
                }
                String body = exchange(socket);
                if (body == null && reused) {
                    socket.close();
                    socket = null; // closed while idle: a new connection, the same request
                    continue;
                }
                if (body == null) {
                    throw new IOException("connection closed before an answer");
                }
                served(source, body);
                reused = true;
            } catch (IOException | RuntimeException e) {
                failures.add("keep-alive from " + source.getHostAddress() + (reused ? " (reused)" : "") + ": " + e);
                closeQuietly(socket);
                socket = null;
            }
            pace(next); // not before a retry: that is the same request, sent again at once
        }
        closeQuietly(socket);
    }

    /** One GET; the body, or null when the connection closed before the first byte of the answer. */
    private static String exchange(Socket socket) throws IOException {
        OutputStream out = socket.getOutputStream();
        try {
            out.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
        } catch (IOException closed) {
            return null;
        }
        InputStream in = socket.getInputStream();
        int first;
        try {
            first = in.read();
        } catch (IOException reset) {
            return null;
        }
        if (first < 0) {
            return null;
        }
        StringBuilder head = new StringBuilder().append((char) first);
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed in the middle of an answer");
            }
            head.append((char) b);
        }
        if (!head.toString().startsWith("HTTP/1.1 200")) {
            throw new IOException("unexpected answer: " + head);
        }
        int length = Clients.contentLength(head.toString());
        byte[] body = in.readNBytes(length);
        if (body.length != length) {
            throw new IOException("connection closed in the middle of a body");
        }
        return new String(body, StandardCharsets.UTF_8).trim();
    }

    private static void closeQuietly(Socket socket) {
        try {
            if (socket != null) {
                socket.close();
            }
        } catch (IOException ignored) {
            // closing
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        for (Thread t : threads) {
            t.join(30_000);
        }
    }
}
