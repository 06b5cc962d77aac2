package sticky.it.apps;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Netty 4.2 HTTP, on its native epoll transport when Netty says it is
 * available and on NIO otherwise, as Netty applications commonly choose, with
 * Netty's default number of event loops (twice the processors it counts).
 * Prints which one it runs on. Answers {@link Reply#line} (keeping the
 * connection open when the request asks for keep-alive), and echoes
 * WebSocket text messages on /ws as "{@link Reply#line} echo=TEXT". On epoll,
 * prints whether its first accepted socket is non-blocking, as Netty's event
 * loops need ("child nonblocking BOOLEAN"). Args: port.
 */
public final class NettyApp {
    public static void main(String[] args) throws Exception {
        boolean epoll = Epoll.isAvailable();
        System.out.println("transport " + (epoll ? "epoll" : "nio"));
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        Class<? extends ServerChannel> type = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        Channel channel = new ServerBootstrap().group(new MultiThreadIoEventLoopGroup(io)).channel(type)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (ch instanceof EpollSocketChannel epollChannel && !reported.getAndSet(true)) {
                            System.out.println("child nonblocking " + nonBlocking(epollChannel.fd().intValue()));
                        }
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                                new WebSocketServerProtocolHandler("/ws"),
                                new SimpleChannelInboundHandler<TextWebSocketFrame>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, TextWebSocketFrame frame) {
                                        String line = Reply.line((InetSocketAddress) ctx.channel().remoteAddress(), 0);
                                        ctx.writeAndFlush(new TextWebSocketFrame(line.trim() + " echo=" + frame.text()));
                                    }
                                },
                                new SimpleChannelInboundHandler<FullHttpRequest>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
                                        String line = Reply.line((InetSocketAddress) ctx.channel().remoteAddress(), 0);
                                        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                                                HttpResponseStatus.OK, Unpooled.copiedBuffer(line, StandardCharsets.UTF_8));
                                        response.headers().set(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
                                        boolean keepAlive = HttpUtil.isKeepAlive(request);
                                        HttpUtil.setKeepAlive(response, keepAlive);
                                        ChannelFuture written = ctx.writeAndFlush(response);
                                        if (!keepAlive) {
                                            written.addListener(ChannelFutureListener.CLOSE);
                                        }
                                    }
                                });
                    }
                }).bind(Integer.parseInt(args[0])).sync().channel();
        Reply.listening(((InetSocketAddress) channel.localAddress()).getPort());
    }

    private static final AtomicBoolean reported = new AtomicBoolean();

    /** O_NONBLOCK (octal 04000) in the descriptor's flags, from /proc/self/fdinfo (octal). */
    private static boolean nonBlocking(int fd) {
        try {
            String flags = Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd)).stream()
                    .filter(l -> l.startsWith("flags:")).findFirst().orElseThrow().substring(6).trim();
            return (Integer.parseInt(flags, 8) & 04000) != 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
