package sticky.it.apps;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

/**
 * A JDK HttpServer with no graceful stop of its own that answers any request
 * with {@link Reply#line}, then "path=PATH", then the request's body as it
 * came: a byte lost or doubled anywhere in the stream shows in the answer.
 * Args: port.
 */
public final class EchoHttpApp {
    public static void main(String[] args) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(Integer.parseInt(args[0])), 0);
        server.setExecutor(Executors.newFixedThreadPool(8));
        server.createContext("/", exchange -> {
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            answer.writeBytes(Reply.line(exchange.getRemoteAddress(), 0).getBytes(StandardCharsets.UTF_8));
            answer.writeBytes(("path=" + exchange.getRequestURI().getRawPath() + "\n").getBytes(StandardCharsets.UTF_8));
            answer.writeBytes(exchange.getRequestBody().readAllBytes());
            exchange.sendResponseHeaders(200, answer.size());
            exchange.getResponseBody().write(answer.toByteArray());
            exchange.close();
        });
        server.start();
        Reply.listening(server.getAddress().getPort());
    }
}
