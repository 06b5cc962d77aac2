package sticky.it.apps;

import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;

/** Blocking ServerSocketChannel. Args: port. */
public final class ChannelApp {
    public static void main(String[] args) throws Exception {
        ServerSocketChannel server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress(Integer.parseInt(args[0])));
        Reply.listening(((InetSocketAddress) server.getLocalAddress()).getPort());
        while (true) {
            Reply.to(server.accept());
        }
    }
}
