package sticky.it.apps;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import java.net.ServerSocket;

/**
 * Prints which of Netty's Linux native transports say they are available,
 * as "io_uring BOOLEAN epoll BOOLEAN" (and why io_uring is not, on the next
 * line), then answers each connection on a ServerSocket with
 * {@link Reply#line}. Args: port.
 */
public final class NettyTransportsApp {
    public static void main(String[] args) throws Exception {
        System.out.println("io_uring " + IoUring.isAvailable() + " epoll " + Epoll.isAvailable());
        if (!IoUring.isAvailable()) {
            System.out.println("io_uring unavailable: " + IoUring.unavailabilityCause());
        }
        try (ServerSocket server = new ServerSocket(Integer.parseInt(args[0]))) {
            Reply.listening(server.getLocalPort());
            while (true) {
                Reply.to(server.accept());
            }
        }
    }
}
