package sticky.it.apps;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.CountDownLatch;

/** Serves one connection, closes its server socket, and stays alive. Args: port. */
public final class CloseAfterOneApp {
    public static void main(String[] args) throws Exception {
        ServerSocket server = new ServerSocket();
        server.bind(new InetSocketAddress(Integer.parseInt(args[0])));
        Reply.listening(server.getLocalPort());
        Reply.to(server.accept());
        server.close();
        System.out.println("closed");
        new CountDownLatch(1).await();
    }
}
