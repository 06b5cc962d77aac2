package sticky.it.apps;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;

/**
 * A JDK HttpServer as many are written: a fixed pool, and no graceful stop
 * of its own (no shutdown hook: SIGTERM ends it with whatever it was doing).
 * GET /slow takes 2 s. Every answer is {@link Reply#line}. Args: port.
 */
public final class PlainHttpApp {
    public static void main(String[] args) throws Exception {
        HttpServer server = create(Integer.parseInt(args[0]), Executors.newFixedThreadPool(4));
        server.start();
        Reply.listening(server.getAddress().getPort());
    }

    /** The server, not started yet: GET / at once, GET /slow in 2 s. */
    static HttpServer create(int port, Executor executor) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
        server.setExecutor(executor);
        server.createContext("/", PlainHttpApp::answer);
        server.createContext("/slow", exchange -> {
            System.out.println("handling slow request");
            try {
                Thread.sleep(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            answer(exchange);
        });
        return server;
    }

    private static void answer(HttpExchange exchange) throws IOException {
        byte[] body = Reply.line(exchange.getRemoteAddress(), 0).getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
    }
}
