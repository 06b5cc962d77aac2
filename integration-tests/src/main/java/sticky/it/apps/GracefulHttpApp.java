package sticky.it.apps;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

/**
 * A JDK HttpServer that stops gracefully, as production servers do: on
 * SIGTERM its shutdown hook stops accepting and lets requests in progress
 * finish. GET /slow takes 2 s. Every answer is {@link Reply#line}. Args: port.
 */
public final class GracefulHttpApp {
    public static void main(String[] args) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(Integer.parseInt(args[0])), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/", exchange -> answer(exchange));
        server.createContext("/slow", exchange -> {
            System.out.println("handling slow request");
            try {
                Thread.sleep(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            answer(exchange);
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.stop(5); // JDK 17 waits the whole delay even when idle (fixed in JDK 22)
            System.out.println("stopped gracefully");
        }));
        server.start();
        Reply.listening(server.getAddress().getPort());
    }

    private static void answer(HttpExchange exchange) throws IOException {
        byte[] body = Reply.line(exchange.getRemoteAddress(), 0).getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
    }
}
