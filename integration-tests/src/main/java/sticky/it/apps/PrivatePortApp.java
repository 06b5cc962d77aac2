package sticky.it.apps;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * An application with a port for its clients and one for management (as
 * Spring Boot's management.server.port or a Prometheus exporter): both JDK
 * HttpServers answering {@link Reply#line}. Prints "private PORT" with the
 * management server's port as bound. Args: port, management port.
 */
public final class PrivatePortApp {
    public static void main(String[] args) throws Exception {
        HttpServer app = server(Integer.parseInt(args[0]));
        HttpServer management = server(Integer.parseInt(args[1]));
        System.out.println("private " + management.getAddress().getPort());
        Reply.listening(app.getAddress().getPort());
    }

    private static HttpServer server(int port) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
        server.createContext("/", exchange -> {
            byte[] body = Reply.line(exchange.getRemoteAddress(), 0).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        return server;
    }
}
