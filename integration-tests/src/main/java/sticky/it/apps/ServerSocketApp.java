package sticky.it.apps;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;

/**
 * Blocking java.net.ServerSocket with the options servers commonly set:
 * SO_REUSEADDR and SO_RCVBUF before bind, and an accept timeout.
 * Args: port [receiveBufferSize].
 */
public final class ServerSocketApp {
    public static void main(String[] args) throws Exception {
        ServerSocket server = new ServerSocket();
        server.setReuseAddress(true);
        if (args.length > 1) {
            server.setReceiveBufferSize(Integer.parseInt(args[1]));
        }
        server.bind(new InetSocketAddress(Integer.parseInt(args[0])));
        server.setSoTimeout(200);
        Reply.listening(server.getLocalPort());
        boolean timedOut = false;
        while (true) {
            try {
                Reply.to(server.accept());
            } catch (SocketTimeoutException idle) {
                if (!timedOut) {
                    System.out.println("accept timed out");
                    timedOut = true;
                }
            }
        }
    }
}
