package sticky.it.apps;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

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
                    .option(EpollChannelOption.SO_REUSEPORT, true).childHandler(new Answer(n)).bind(port).sync().channel();
            Reply.listening(((InetSocketAddress) server.localAddress()).getPort());
        }
    }

    @ChannelHandler.Sharable
    private static final class Answer extends ChannelInboundHandlerAdapter {
        private final int channel;

        Answer(int channel) {
            this.channel = channel;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            String line = Reply.line((InetSocketAddress) ctx.channel().remoteAddress(), 0).trim() + " channel=" + channel + "\n";
            ctx.writeAndFlush(Unpooled.copiedBuffer(line, StandardCharsets.UTF_8)).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
