package sticky.agent.master.inspect;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import sticky.agent.common.ClientHash;
import sticky.agent.jvm.Logs;
import sticky.agent.master.lifecycle.Lifecycle;
import sticky.agent.master.lifecycle.MasterLoop;
import sticky.agent.master.listen.Listeners;
import sticky.agent.options.Options;

/**
 * health=PATH, the watchdog's second look: an HTTP GET of PATH to each
 * serving worker, through the application's own port, every
 * {@link #INTERVAL_MS} (or the watchdog's time, if shorter). The master
 * reaches one chosen worker as a client would: from a loopback address
 * (127.0.0.0/8 is all the machine's) that hashes to that worker's slot, so
 * that the routing every client gets takes the request there (behind
 * route=proxy with a PROXY v1 header naming that address, which the
 * application parses; with proxy-header=strip no header, since the
 * application parses none and the address is routed by alone). An answer other
 * than 2xx or 3xx, or none within the watchdog's time, makes the worker
 * hung, if the lifecycle may judge it; a check that cannot connect says
 * nothing about the worker and is only logged. Checks run on their own
 * threads, one at a time per slot: they block.
 */
public final class HealthCheck {
    private static final Logger log = Logs.get();
    static final long INTERVAL_MS = 5000;

    private final String path;
    private final long timeoutMs;
    private final boolean proxyHeader;
    private final MasterLoop loop;
    private final Lifecycle lifecycle;
    private final Listeners listeners;
    /** For each count of slots seen, the source address of each slot. */
    private final Map<Integer, InetAddress[]> sources = new java.util.HashMap<>();
    private final AtomicBoolean[] inFlight;
    private final ExecutorService checks = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "sticky-health");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean unreachableSaid;
    private volatile boolean stopped;

    public HealthCheck(String path, long timeoutMs, boolean proxyHeader, MasterLoop loop, Lifecycle lifecycle,
            Listeners listeners) {
        this.path = path;
        this.timeoutMs = timeoutMs;
        this.proxyHeader = proxyHeader;
        this.loop = loop;
        this.lifecycle = lifecycle;
        this.listeners = listeners;
        this.inFlight = new AtomicBoolean[Options.MAX_WORKERS];
        for (int i = 0; i < inFlight.length; i++) {
            inFlight[i] = new AtomicBoolean();
        }
    }

    /** For each slot a loopback address that ClientHash sends to it. */
    static InetAddress[] sources(int slots) {
        InetAddress[] found = new InetAddress[slots];
        int left = slots;
        for (int n = 2; left > 0 && n < (1 << 24); n++) {
            byte[] a = {127, (byte) (n >> 16), (byte) (n >> 8), (byte) n};
            int slot = ClientHash.slot(a, slots);
            if (found[slot] == null) {
                try {
                    found[slot] = InetAddress.getByAddress(a);
                } catch (IOException impossible) {
                    throw new IllegalStateException(impossible);
                }
                left--;
            }
        }
        return found;
    }

    /** Starts the rounds, on the master's loop's timers. */
    public void start() {
        loop.after(Math.min(INTERVAL_MS, timeoutMs), this::round);
    }

    /** On the loop: a check for each serving slot that has none under way. */
    private void round() {
        if (stopped) {
            return;
        }
        int port = listeners.healthPort();
        if (port > 0) {
            int routed = lifecycle.count().routed();
            InetAddress[] from = sources.computeIfAbsent(routed, HealthCheck::sources);
            for (Map.Entry<Integer, Long> e : lifecycle.serving().entrySet()) {
                int slot = e.getKey();
                long pid = e.getValue();
                if (slot < routed && inFlight[slot].compareAndSet(false, true)) {
                    checks.execute(() -> {
                        try {
                            String why = check(from[slot], port);
                            if (why != null) {
                                loop.post(() -> lifecycle.unhealthy(slot, pid, why));
                            }
                        } finally {
                            inFlight[slot].set(false);
                        }
                    });
                }
            }
        }
        loop.after(Math.min(INTERVAL_MS, timeoutMs), this::round);
    }

    /** Null if the worker answered 2xx or 3xx in time (or could not be reached); else why not. */
    private String check(InetAddress source, int port) {
        try (Socket socket = new Socket()) {
            socket.bind(new InetSocketAddress(source, 0));
            try {
                socket.connect(new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), port),
                        (int) timeoutMs);
            } catch (IOException e) {
                if (!unreachableSaid) {
                    unreachableSaid = true;
                    log.warn("health checks cannot reach 127.0.0.1:{} ({}); they judge no worker", port, e.toString());
                }
                return null;
            }
            socket.setSoTimeout((int) timeoutMs);
            String head = (proxyHeader ? "PROXY TCP4 " + source.getHostAddress() + " 127.0.0.1 " + socket.getLocalPort()
                    + " " + port + "\r\n" : "") + "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: sticky-health"
                    + "\r\nConnection: close\r\n\r\n";
            socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
            String status = statusLine(socket.getInputStream());
            if (status.matches("HTTP/1\\.[01] [23]\\d\\d( .*)?")) {
                return null;
            }
            return "GET " + path + " answered '" + status + "'";
        } catch (SocketTimeoutException e) {
            return "GET " + path + " got no answer within " + timeoutMs + " ms";
        } catch (IOException e) {
            return "GET " + path + " failed: " + e.getMessage();
        }
    }

    private static String statusLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int b; (b = in.read()) >= 0 && b != '\n' && line.length() < 200; ) {
            if (b != '\r') {
                line.append((char) b);
            }
        }
        return line.toString();
    }

    public void stop() {
        stopped = true;
        checks.shutdownNow();
    }
}
