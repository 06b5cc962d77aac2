package sticky.it.apps;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;

/**
 * Answers each connection with "pid=P worker=W" and closes it. Worker 1
 * answers one connection, then stops accepting for three seconds (connections
 * routed to it queue up), closes its server socket and stays alive; every
 * other process serves for ever. Args: port.
 */
public final class QueueThenCloseApp {
    public static void main(String[] args) throws Exception {
        ServerSocket server = new ServerSocket();
        server.bind(new InetSocketAddress(Integer.parseInt(args[0])));
        Reply.listening(server.getLocalPort());
        String worker = System.getProperty("sticky.worker.id", "none");
        do {
            try (Socket client = server.accept(); OutputStream out = client.getOutputStream()) {
                out.write(("pid=" + ProcessHandle.current().pid() + " worker=" + worker + "\n")
                        .getBytes(StandardCharsets.UTF_8));
            }
        } while (!worker.equals("1"));
        Thread.sleep(3000);
        server.close();
        System.out.println("closed");
        new CountDownLatch(1).await();
    }
}
