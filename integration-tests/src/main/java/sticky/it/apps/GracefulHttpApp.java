package sticky.it.apps;

import com.sun.net.httpserver.HttpServer;
import java.util.concurrent.Executors;

/**
 * A JDK HttpServer that stops gracefully, as production servers do: on
 * SIGTERM its shutdown hook stops accepting and lets requests in progress
 * finish. Otherwise {@link PlainHttpApp}, with a cached pool. Args: port.
 */
public final class GracefulHttpApp {
    public static void main(String[] args) throws Exception {
        HttpServer server = PlainHttpApp.create(Integer.parseInt(args[0]), Executors.newCachedThreadPool());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.stop(5); // JDK 17 waits the whole delay even when idle (fixed in JDK 22)
            System.out.println("stopped gracefully");
        }));
        server.start();
        Reply.listening(server.getAddress().getPort());
    }
}
