package sticky.it.apps;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * The rest of a busy machine's TCP table: {@code serve PORT} accepts and holds
 * every connection; {@code connect FROM PORT COUNT} opens COUNT connections
 * from address FROM to 127.0.0.1:PORT and holds them. Prints "listening PORT"
 * and "held COUNT"; runs until it is killed. Not clustered: no agent.
 */
public final class ConnectionHolder {
    public static void main(String[] args) throws Exception {
        List<SocketChannel> held = new ArrayList<>();
        if (args[0].equals("serve")) {
            ServerSocketChannel server = ServerSocketChannel.open();
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(args[1])), 4096);
            Reply.listening(((InetSocketAddress) server.getLocalAddress()).getPort());
            while (true) {
                held.add(server.accept());
            }
        }
        InetAddress from = InetAddress.getByName(args[1]);
        InetSocketAddress to = new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(args[2]));
        int count = Integer.parseInt(args[3]);
        for (int i = 0; i < count; i++) {
            SocketChannel channel = SocketChannel.open();
            channel.bind(new InetSocketAddress(from, 0));
            channel.connect(to);
            held.add(channel);
        }
        System.out.println("held " + held.size());
        Thread.sleep(Long.MAX_VALUE);
    }
}
