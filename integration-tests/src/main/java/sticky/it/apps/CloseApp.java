package sticky.it.apps;

import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;

/** Accepts and closes at once: a server that costs nothing, to measure what handing connections over costs. Args: port. */
public final class CloseApp {
    public static void main(String[] args) throws Exception {
        ServerSocketChannel server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress(Integer.parseInt(args[0])), 4096);
        Reply.listening(((InetSocketAddress) server.getLocalAddress()).getPort());
        while (true) {
            server.accept().close();
        }
    }
}
