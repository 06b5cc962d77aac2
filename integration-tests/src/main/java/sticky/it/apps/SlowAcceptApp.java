package sticky.it.apps;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;

/**
 * A busy single-threaded server: it takes one connection every 20 ms, so
 * connections wait for it. Prints the client port of each connection it
 * accepts, before answering it. Args: port.
 */
public final class SlowAcceptApp {
    public static void main(String[] args) throws Exception {
        ServerSocketChannel server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress(Integer.parseInt(args[0])));
        Reply.listening(((InetSocketAddress) server.getLocalAddress()).getPort());
        long pid = ProcessHandle.current().pid();
        while (true) {
            Socket client = server.accept().socket();
            System.out.println("accepted pid=" + pid + " port=" + client.getPort());
            Reply.to(client);
            Thread.sleep(20);
        }
    }
}
