package sticky.it.apps;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import java.net.InetSocketAddress;

/**
 * Netty's way to accept on several threads with epoll: two server channels
 * bound to the same port with SO_REUSEPORT. Each answers with
 * {@link Reply#line} plus " channel=N". Args: port (not 0: both bind it).
 */
public final class ReusePortApp {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
        for (int n = 1; n <= 2; n++) {
            Channel server = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                    .option(EpollChannelOption.SO_REUSEPORT, true).childHandler(new NettyGreeting(" channel=" + n, () -> {}))
                    .bind(port).sync().channel();
            Reply.listening(((InetSocketAddress) server.localAddress()).getPort());
        }
    }
}
