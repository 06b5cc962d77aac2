package sticky.it.apps;

import com.sun.net.httpserver.HttpServer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;

/**
 * {@link PlainHttpApp} with a health endpoint that can fall ill: GET /health
 * answers 200 until the worker gets GET /sick?503 (from then on /health
 * answers 503) or GET /sick?silent (from then on /health is accepted and
 * never answered); every other request is still served. Args: port.
 */
public final class HealthApp {
    private static volatile String illness = "";

    public static void main(String[] args) throws Exception {
        HttpServer server = PlainHttpApp.create(Integer.parseInt(args[0]), Executors.newFixedThreadPool(8));
        server.createContext("/sick", exchange -> {
            illness = exchange.getRequestURI().getQuery();
            System.out.println("sick: " + illness);
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        server.createContext("/health", exchange -> {
            if (illness.equals("silent")) {
                try {
                    new CountDownLatch(1).await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            exchange.sendResponseHeaders(illness.equals("503") ? 503 : 200, -1);
            exchange.close();
        });
        server.start();
        Reply.listening(server.getAddress().getPort());
    }
}
