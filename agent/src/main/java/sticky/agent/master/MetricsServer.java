package sticky.agent.master;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import org.slf4j.Logger;
import sticky.agent.Logs;

/** The metrics= option: the cluster's figures as Prometheus text at /metrics, served by the master. */
final class MetricsServer {
    private static final Logger log = Logs.get();

    private final HttpServer server;

    MetricsServer(InetSocketAddress address, Supplier<ClusterStatus> status) throws IOException {
        server = HttpServer.create(new InetSocketAddress(address.getHostString(), address.getPort()), 16);
        server.createContext("/metrics", exchange -> {
            byte[] body = status.get().prometheus().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        log.info("metrics on http://{}:{}/metrics", address.getHostString(), server.getAddress().getPort());
    }

    void close() {
        server.stop(0);
    }
}
