package sticky.it.apps;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;

/**
 * Blocking java.net.ServerSocket with the options servers commonly set:
 * SO_REUSEADDR and SO_RCVBUF before bind, and an accept timeout.
 * Args: port [receiveBufferSize [before|after]]: SO_RCVBUF is set before
 * bind, or after (and IP_TOS with it, after bind: JDK 25 sets it through
 * another call than JDK 17); with a size, the server socket's options as it
 * reads them after bind are printed ("server rcvbuf=N reuseaddr=B tos=T").
 */
public final class ServerSocketApp {
    public static void main(String[] args) throws Exception {
        ServerSocket server = new ServerSocket();
        server.setReuseAddress(true);
        boolean afterBind = args.length > 2 && args[2].equals("after");
        if (args.length > 1 && !afterBind) {
            server.setReceiveBufferSize(Integer.parseInt(args[1]));
        }
        server.bind(new InetSocketAddress(Integer.parseInt(args[0])));
        if (afterBind) {
            server.setReceiveBufferSize(Integer.parseInt(args[1]));
            server.setOption(StandardSocketOptions.IP_TOS, 0x10);
        }
        if (args.length > 1) {
            System.out.println("server rcvbuf=" + server.getReceiveBufferSize()
                    + " reuseaddr=" + server.getReuseAddress() + " tos=" + server.getOption(StandardSocketOptions.IP_TOS));
        }
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
