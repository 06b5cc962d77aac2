package sticky.it.apps;

import java.net.InetSocketAddress;
import java.nio.channels.AsynchronousServerSocketChannel;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.CompletionHandler;
import java.util.concurrent.CountDownLatch;

/** AsynchronousServerSocketChannel with a completion handler. Args: port. */
public final class AsyncChannelApp {
    public static void main(String[] args) throws Exception {
        AsynchronousServerSocketChannel server = AsynchronousServerSocketChannel.open();
        server.bind(new InetSocketAddress(Integer.parseInt(args[0])));
        Reply.listening(((InetSocketAddress) server.getLocalAddress()).getPort());
        server.accept(null, new CompletionHandler<AsynchronousSocketChannel, Void>() {
            @Override
            public void completed(AsynchronousSocketChannel client, Void attachment) {
                server.accept(null, this);
                try (client) {
                    String line = Reply.line((InetSocketAddress) client.getRemoteAddress(), 0);
                    client.write(java.nio.ByteBuffer.wrap(line.getBytes(java.nio.charset.StandardCharsets.UTF_8))).get();
                } catch (Exception e) {
                    e.printStackTrace();
                }
            }

            @Override
            public void failed(Throwable e, Void attachment) {
                e.printStackTrace();
            }
        });
        new CountDownLatch(1).await();
    }
}
