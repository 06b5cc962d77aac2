package sticky.agent.master.listen;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import org.slf4j.Logger;
import sticky.agent.jvm.JdkAccess;
import sticky.agent.jvm.Logs;
import sticky.agent.unix.Libc;

/**
 * The listening socket master dispatch accepts from: its own channel, or one
 * the service manager passed in (socket activation) or an old master handed
 * over (upgrade), which others hold too (shared) and must outlive this
 * process. And how a thread blocked in accept4 on it is woken: closing the
 * descriptor does not wake it; shutdown does, but only for a socket this
 * process alone holds (it would break a shared one for the others); for a
 * shared one, a connection of the master's own, told from a client's by its
 * source port.
 */
final class ListeningSocket {
    private static final Logger log = Logs.get();

    final int fd;
    final InetSocketAddress local;
    private final Closeable closer;
    private volatile boolean shared;
    /** The source port of the connection that wakes the accept thread, to tell it from a client's. */
    private volatile int wakePort = -1;

    private ListeningSocket(int fd, InetSocketAddress local, Closeable closer, boolean shared) {
        this.fd = fd;
        this.local = local;
        this.closer = closer;
        this.shared = shared;
    }

    static ListeningSocket of(ServerSocketChannel channel) throws IOException {
        return new ListeningSocket(JdkAccess.channelFd(channel), (InetSocketAddress) channel.getLocalAddress(), channel,
                false);
    }

    static ListeningSocket activated(ActivatedSockets.Socket socket) {
        return adopted(socket.fd(), socket.local());
    }

    static ListeningSocket adopted(int fd, InetSocketAddress local) {
        return new ListeningSocket(fd, local, () -> Libc.close(fd), true);
    }

    /** From now on another process holds it too (an upgrade's new master). */
    void share() {
        shared = true;
    }

    /**
     * Wakes the thread blocked in accept4 on it; for a shared socket, by a
     * connection of its own, held open while untilOut waits for the thread to
     * have left accept4 (it takes that connection, or a client's first).
     */
    void wakeAccept(Runnable untilOut) {
        if (!shared) {
            Libc.shutdown(fd, Libc.SHUT_RDWR);
            return;
        }
        InetAddress to = local.getAddress().isAnyLocalAddress() ? InetAddress.getLoopbackAddress() : local.getAddress();
        try (Socket wake = new Socket()) {
            wake.bind(new InetSocketAddress(to, 0));
            wakePort = wake.getLocalPort();
            wake.connect(new InetSocketAddress(to, local.getPort()), 1000);
            untilOut.run();
        } catch (IOException e) {
            log.debug("waking the accept on {}: {}", local, e.toString());
        }
    }

    /** Whether a connection accepted from that source port is this master's own, made to wake the thread. */
    boolean isWakeUp(int port) {
        return port == wakePort;
    }

    void close() throws IOException {
        closer.close();
    }
}
