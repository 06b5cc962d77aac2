package sticky.it.apps;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.AsynchronousServerSocketChannel;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CountDownLatch;

/**
 * Serves one connection, closes its server socket, and stays alive. Args:
 * API port, API one of socket (ServerSocket), channel (a blocking
 * ServerSocketChannel), selector (a non-blocking one on a Selector, which the
 * JDK closes when the key is flushed by the next select), async
 * (AsynchronousServerSocketChannel) and netty (a Netty server channel on its
 * native epoll transport).
 */
public final class CloseAfterOneApp {
    public static void main(String[] args) throws Exception {
        InetSocketAddress address = new InetSocketAddress(Integer.parseInt(args[1]));
        switch (args[0]) {
            case "socket" -> {
                ServerSocket server = new ServerSocket();
                server.bind(address);
                Reply.listening(server.getLocalPort());
                Reply.to(server.accept());
                server.close();
            }
            case "channel" -> {
                ServerSocketChannel server = ServerSocketChannel.open().bind(address);
                Reply.listening(((InetSocketAddress) server.getLocalAddress()).getPort());
                Reply.to(server.accept());
                server.close();
            }
            case "selector" -> {
                Selector selector = Selector.open();
                ServerSocketChannel server = ServerSocketChannel.open().bind(address);
                server.configureBlocking(false);
                server.register(selector, SelectionKey.OP_ACCEPT);
                Reply.listening(((InetSocketAddress) server.getLocalAddress()).getPort());
                SocketChannel client = null;
                while (client == null) {
                    selector.select();
                    selector.selectedKeys().clear();
                    client = server.accept();
                }
                Reply.to(client);
                server.close();
                selector.selectNow(); // flushes the cancelled key: only now does the JDK close the socket
            }
            case "async" -> {
                AsynchronousServerSocketChannel server = AsynchronousServerSocketChannel.open().bind(address);
                Reply.listening(((InetSocketAddress) server.getLocalAddress()).getPort());
                try (AsynchronousSocketChannel client = server.accept().get()) {
                    String line = Reply.line((InetSocketAddress) client.getRemoteAddress(), 0);
                    client.write(java.nio.ByteBuffer.wrap(line.getBytes(java.nio.charset.StandardCharsets.UTF_8))).get();
                }
                server.close();
            }
            case "netty" -> {
                CountDownLatch served = new CountDownLatch(1);
                Channel server = new ServerBootstrap().group(new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory()))
                        .channel(EpollServerSocketChannel.class).childHandler(new NettyGreeting("", served::countDown))
                        .bind(address).sync().channel();
                Reply.listening(((InetSocketAddress) server.localAddress()).getPort());
                served.await();
                server.close().sync();
            }
            default -> throw new IllegalArgumentException("unknown API " + args[0]);
        }
        System.out.println("closed");
        new CountDownLatch(1).await();
    }
}
