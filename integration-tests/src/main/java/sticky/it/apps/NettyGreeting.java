package sticky.it.apps;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The Netty apps' plain (not HTTP) answer: {@link Reply#line}, followed by
 * suffix on the same line if any, then close; calls served after each.
 */
@ChannelHandler.Sharable
final class NettyGreeting extends ChannelInboundHandlerAdapter {
    private final String suffix;
    private final Runnable served;

    NettyGreeting() {
        this("", () -> {});
    }

    NettyGreeting(String suffix, Runnable served) {
        this.suffix = suffix;
        this.served = served;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        String line = Reply.line((InetSocketAddress) ctx.channel().remoteAddress(), 0).trim() + suffix + "\n";
        ctx.writeAndFlush(Unpooled.copiedBuffer(line, StandardCharsets.UTF_8)).addListener(ChannelFutureListener.CLOSE);
        served.run();
    }
}
