package sticky.it.apps;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;

/**
 * A JDK HttpServer with no executor of its own, so its handlers run on the
 * thread that accepts (the JDK's default): GET /hang never returns, and the
 * worker that got it accepts nothing more while it stays alive, as a worker
 * stuck on a lock or a dead backend would. Every other request is answered
 * with {@link Reply#line}. Args: port.
 */
public final class HangingHttpApp {
    public static void main(String[] args) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(Integer.parseInt(args[0])), 0);
        server.createContext("/", exchange -> {
            byte[] body = Reply.line(exchange.getRemoteAddress(), 0).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.createContext("/hang", exchange -> {
            System.out.println("hanging");
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        server.start();
        Reply.listening(server.getAddress().getPort());
    }
}
