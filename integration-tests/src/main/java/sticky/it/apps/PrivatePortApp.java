package sticky.it.apps;

import com.sun.net.httpserver.HttpServer;
import java.nio.charset.StandardCharsets;

/**
 * An application with a port for its clients and one for management (as
 * Spring Boot's management.server.port or a Prometheus exporter): both JDK
 * HttpServers answering {@link Reply#line}; the management one also serves
 * /metrics, Prometheus text with this process's pid ({@code app_pid}).
 * Prints "private PORT" with the management server's port as bound. Args:
 * port, management port.
 */
public final class PrivatePortApp {
    public static void main(String[] args) throws Exception {
        HttpServer app = HttpServerApp.start(Integer.parseInt(args[0]));
        HttpServer management = HttpServerApp.start(Integer.parseInt(args[1]));
        management.createContext("/metrics", exchange -> {
            byte[] body = ("# TYPE app_pid gauge\napp_pid " + ProcessHandle.current().pid() + "\n")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        System.out.println("private " + management.getAddress().getPort());
        Reply.listening(app.getAddress().getPort());
    }
}
