package sticky.it.apps;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A blocking ServerSocket that is its own first client: the moment its bind
 * returns it connects to its port from 127.0.0.1 to 127.0.0.8, then accepts
 * on a thread (answering as every app does) and prints, for each source, the
 * process that answered: "first SOURCE ANSWERING_PID OWN_PID". Then it says
 * it is listening. Worker 2 binds a second after the others, so that its bind
 * comes while another worker already serves (whose socket would take its
 * clients if its route went live late). Args: port.
 */
public final class SelfClientApp {
    public static final int SOURCES = 8;

    public static void main(String[] args) throws Exception {
        if ("2".equals(System.getenv("STICKY_WORKER_ID"))) {
            Thread.sleep(1000);
        }
        ServerSocket server = new ServerSocket();
        server.bind(new InetSocketAddress(Integer.parseInt(args[0])));
        // Connected before anything else runs: the kernel completes the handshakes on whichever
        // listening socket the connection is routed to, whether or not anyone accepts yet.
        List<Socket> clients = new ArrayList<>();
        for (int i = 1; i <= SOURCES; i++) {
            Socket client = new Socket();
            client.bind(new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) i}), 0));
            client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()));
            clients.add(client);
        }
        Thread acceptor = new Thread(() -> {
            try {
                while (true) {
                    Reply.to(server.accept());
                }
            } catch (Exception e) {
                e.printStackTrace();
            }
        }, "acceptor");
        acceptor.setDaemon(true);
        acceptor.start();
        for (Socket client : clients) {
            try (client; InputStream in = client.getInputStream()) {
                client.setSoTimeout(60_000);
                String reply = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                String pid = reply.replaceAll("(?s).*pid=(\\d+).*", "$1");
                System.out.println("first " + client.getLocalAddress().getHostAddress() + " " + pid + " "
                        + ProcessHandle.current().pid());
            }
        }
        Reply.listening(server.getLocalPort());
        acceptor.join();
    }
}
