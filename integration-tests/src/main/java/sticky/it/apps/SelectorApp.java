package sticky.it.apps;

import java.net.InetSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/** Non-blocking ServerSocketChannel on a Selector, the way NIO servers run. Args: port. */
public final class SelectorApp {
    public static void main(String[] args) throws Exception {
        Selector selector = Selector.open();
        ServerSocketChannel server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress(Integer.parseInt(args[0])));
        server.configureBlocking(false);
        server.register(selector, SelectionKey.OP_ACCEPT);
        Reply.listening(((InetSocketAddress) server.getLocalAddress()).getPort());
        while (true) {
            selector.select();
            selector.selectedKeys().clear();
            SocketChannel client;
            while ((client = server.accept()) != null) {
                Reply.to(client);
            }
        }
    }
}
