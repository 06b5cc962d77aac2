package sticky.it.apps;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * A Netty server and a Netty client, both on the native epoll transport: the
 * client binds its socket to 127.0.0.1, port 0, before it connects to the
 * server's port (as clients that pick their source address do), and prints
 * "client bound ADDRESS got LINE". Args: port.
 */
public final class NettyClientBindApp {
    public static void main(String[] args) throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        Channel server = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                .childHandler(new NettyGreeting()).bind(Integer.parseInt(args[0])).sync().channel();
        int port = ((InetSocketAddress) server.localAddress()).getPort();
        Reply.listening(port);
        StringBuilder reply = new StringBuilder();
        Channel client = new Bootstrap().group(group).channel(EpollSocketChannel.class)
                .handler(new SimpleChannelInboundHandler<ByteBuf>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, ByteBuf bytes) {
                        reply.append(bytes.toString(StandardCharsets.UTF_8));
                    }
                })
                .localAddress(new InetSocketAddress("127.0.0.1", 0))
                .connect(new InetSocketAddress("127.0.0.1", port)).sync().channel();
        InetSocketAddress bound = (InetSocketAddress) client.localAddress();
        client.closeFuture().sync();
        System.out.println("client bound " + bound + " got " + reply.toString().trim());
    }
}
