package sticky.it.apps;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * A JDK HttpServer behind an HTTP proxy: answers "pid=P peer=TCP-PEER
 * forwarded=X-FORWARDED-FOR" (the header as it arrived, spaces removed).
 * Args: port.
 */
public final class ForwardedApp {
    public static void main(String[] args) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(Integer.parseInt(args[0])), 0);
        server.createContext("/", exchange -> {
            String forwarded = exchange.getRequestHeaders().getFirst("X-Forwarded-For");
            byte[] body = ("pid=" + ProcessHandle.current().pid() + " peer="
                    + exchange.getRemoteAddress().getAddress().getHostAddress() + " forwarded="
                    + (forwarded == null ? "-" : forwarded.replace(" ", "")) + "\n").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        System.out.println("listening " + server.getAddress().getPort());
    }
}
