package sticky.agent.master.ops;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import sticky.agent.common.IpAddresses;
import sticky.agent.jvm.Logs;

/**
 * The metrics= option: the cluster's figures as Prometheus text at /metrics,
 * served by the master. Each exchange runs on a thread of its own pool, so
 * that a slow client never holds up another scrape, and a request that has
 * not arrived whole in {@link #REQUEST_SECONDS} is dropped
 * (sun.net.httpserver.maxReqTime: the JDK's server has no other read
 * timeout; read once, when its configuration class loads, JDK 17 and 25;
 * the master runs no other HttpServer).
 */
public final class MetricsServer {
    private static final Logger log = Logs.get();
    static final int REQUEST_SECONDS = 5;

    private final HttpServer server;

    public MetricsServer(InetSocketAddress address, Supplier<ClusterStatus> status) throws IOException {
        loadTimeZoneRules();
        if (System.getProperty("sun.net.httpserver.maxReqTime") == null) {
            System.setProperty("sun.net.httpserver.maxReqTime", Integer.toString(REQUEST_SECONDS));
        }
        server = HttpServer.create(new InetSocketAddress(address.getHostString(), address.getPort()), 16);
        server.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "sticky-metrics");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/metrics", exchange -> {
            byte[] body = status.get().prometheus().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        log.info("metrics on http://{}/metrics", IpAddresses.hostPort(server.getAddress()));
    }

    public void close() {
        server.stop(0);
    }

    /**
     * The JDK's server writes each answer's Date header with a formatter in
     * GMT (sun.net.httpserver.ExchangeImpl's static FORMATTER, JDK 17 and 25),
     * whose first use loads the time-zone rules from lib/tzdb.dat. A first
     * scrape while the master is out of descriptors would fail that load, and
     * the class's failed initialisation would fail every scrape after it:
     * the same formatting here, at start, loads them while descriptors are
     * there to be had.
     */
    private static void loadTimeZoneRules() {
        java.time.format.DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss zzz", java.util.Locale.US)
                .withZone(java.time.ZoneId.of("GMT")).format(java.time.Instant.now());
    }
}
