package sticky.it.apps;

import com.sun.net.httpserver.HttpServer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;

/**
 * {@link PlainHttpApp} with a leak on demand: GET /grow?mb=N makes the
 * process hold N MiB more (direct memory, every page written), for good.
 * Args: port.
 */
public final class GrowingHttpApp {
    private static final List<ByteBuffer> HELD = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        HttpServer server = PlainHttpApp.create(Integer.parseInt(args[0]), Executors.newFixedThreadPool(4));
        server.createContext("/grow", exchange -> {
            int mb = Integer.parseInt(exchange.getRequestURI().getQuery().replace("mb=", ""));
            ByteBuffer held = ByteBuffer.allocateDirect(mb << 20);
            for (int i = 0; i < held.capacity(); i += 4096) {
                held.put(i, (byte) 1);
            }
            synchronized (HELD) {
                HELD.add(held);
            }
            byte[] body = ("pid=" + ProcessHandle.current().pid() + " grew=" + mb + "\n").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        Reply.listening(server.getAddress().getPort());
    }
}
