package sticky.it.apps;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/** JDK HttpServer on each port given (0: any free port); answers every request with {@link Reply#line}. */
public final class HttpServerApp {
    public static void main(String[] args) throws Exception {
        for (String port : args) {
            HttpServer server = start(Integer.parseInt(port));
            Reply.listening(server.getAddress().getPort());
        }
    }

    /** A started HttpServer on port that answers every request with {@link Reply#line}. */
    static HttpServer start(int port) throws IOException {
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
