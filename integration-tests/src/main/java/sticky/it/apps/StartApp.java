package sticky.it.apps;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * For bench/start: says "main cpu=MS" first thing (this process's CPU time
 * when main begins: the JVM's start, plus sticky's in a worker), then serves
 * {@link Reply#line} on a JDK HttpServer, as the README's demo does, and
 * says "listening PORT". Args: port.
 */
public final class StartApp {
    public static void main(String[] args) throws Exception {
        long cpu = ProcessHandle.current().info().totalCpuDuration().map(java.time.Duration::toMillis).orElse(-1L);
        System.out.println("main cpu=" + cpu);
        HttpServer server = HttpServer.create(new InetSocketAddress(Integer.parseInt(args[0])), 0);
        server.createContext("/", exchange -> {
            byte[] body = Reply.line(exchange.getRemoteAddress(), 0).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        Reply.listening(server.getAddress().getPort());
    }
}
