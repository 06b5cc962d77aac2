package sticky.it.apps;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * ServerSocket accepting on a virtual thread, each connection on its own
 * virtual thread (JDK 21+; reflection keeps this module at release 17). Args: port.
 */
public final class VirtualThreadApp {
    public static void main(String[] args) throws Exception {
        ExecutorService threads = (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
        ServerSocket server = new ServerSocket();
        server.bind(new InetSocketAddress(Integer.parseInt(args[0])));
        Reply.listening(server.getLocalPort());
        threads.submit(() -> {
            while (true) {
                var client = server.accept();
                threads.submit(() -> {
                    Reply.to(client);
                    return null;
                });
            }
        }).get();
    }
}
