package sticky.agent.master.listen;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.slf4j.Logger;
import sticky.agent.jvm.JdkAccess;
import sticky.agent.jvm.Logs;
import sticky.agent.unix.Libc;

/**
 * A Unix-domain listener: one socket the master binds at the application's
 * path, which every worker accepts from itself (there is no client address
 * to route by, so no slot has clients of its own). "Delete the stale socket
 * file, then bind", as such servers start, run by a second worker, would
 * unlink the master's socket from its path and leave it unreachable: the
 * master keeps a hard link of its own beside it ({@code .NAME.sticky-PID})
 * and puts the path back at each worker's bind. Used on the master's loop.
 */
final class UnixDispatch implements Dispatch {
    private static final Logger log = Logs.get();

    private final java.io.Closeable closer;
    private final int fd;
    private final Path path;
    /** The master's own name for the socket, or null where it could not make one. */
    private final Path kept;

    private UnixDispatch(java.io.Closeable closer, int fd, Path path, Path kept) {
        this.closer = closer;
        this.fd = fd;
        this.path = path;
        this.kept = kept;
    }

    private UnixDispatch(ServerSocketChannel channel, Path path, Path kept) {
        this(channel, JdkAccess.channelFd(channel), path, kept);
    }

    private static Path kept(Path path) {
        return path.resolveSibling("." + path.getFileName() + ".sticky-" + ProcessHandle.current().pid());
    }

    /** Upgrade, in the new master: the old master's socket, with this master's own link to it. */
    static UnixDispatch adopt(int fd, Path path) {
        Path kept = kept(path);
        try {
            Files.deleteIfExists(kept);
            Files.createLink(kept, path);
        } catch (IOException | UnsupportedOperationException e) {
            log.warn("unix {}: cannot keep a link to the socket ({})", path, e.toString());
            kept = null;
        }
        return new UnixDispatch(() -> Libc.close(fd), fd, path, kept);
    }

    @Override
    public java.util.List<Handing> handOver(int slots) {
        return java.util.List.of(new Handing(sticky.agent.common.Protocol.UNIX_SOCKET, fd, -1));
    }

    /**
     * Binds path as the application asked (the JDK's own BindException if a
     * file is there), then links the master's name to it. A worker that
     * deletes the path between the two (as such servers start, while the
     * first worker's bind is under way) leaves that socket without a name:
     * it is closed and the path bound again. The socket is bound at the path
     * itself, not linked to it, because getsockname (the application's
     * localAddress) gives the name a socket was bound at.
     */
    static UnixDispatch open(Path path, int backlog) throws IOException {
        Path kept = kept(path);
        for (int attempt = 1; ; attempt++) {
            ServerSocketChannel channel = bind(path, backlog);
            try {
                Files.deleteIfExists(kept); // an earlier master's with this pid
                Files.createLink(kept, path);
                return new UnixDispatch(channel, path, kept);
            } catch (NoSuchFileException e) {
                channel.close(); // deleted under us: bind the path again
                if (attempt == 3) {
                    throw new BindException("unix " + path + " was deleted each time it was bound");
                }
            } catch (IOException | UnsupportedOperationException e) {
                log.warn("unix {}: cannot keep a link to the socket ({}); a worker that deletes the path before it "
                        + "binds leaves it unreachable", path, e.toString());
                return new UnixDispatch(channel, path, null);
            }
        }
    }

    private static ServerSocketChannel bind(Path path, int backlog) throws IOException {
        ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.bind(UnixDomainSocketAddress.of(path), backlog);
            return channel;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    @Override
    public InetSocketAddress localAddress() {
        return null;
    }

    @Override
    public String name() {
        return "unix " + path;
    }

    /** Workers accept from the socket themselves. */
    @Override
    public String kind() {
        return "unix";
    }

    @Override
    public boolean byKernel() {
        return true;
    }

    /** Every worker gets the one socket; its path is put back first if the application deleted it. */
    @Override
    public int attach(int slot, long pid) {
        restorePath();
        return fd;
    }

    private void restorePath() {
        if (kept == null || Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return; // there, or replaced by something of the application's: its business
        }
        try {
            Files.createLink(path, kept);
            log.info("unix {}: the path was deleted; linked it to the master's socket again", path);
        } catch (IOException e) {
            log.warn("unix {}: cannot link the path to the master's socket again: {}", path, e.toString());
        }
    }

    /** Nothing to steer: whichever worker is in accept takes the next connection. */
    @Override
    public void steer(Route[] live) {}

    @Override
    public int queued(Route route) {
        return 0; // one queue for all, which the remaining workers take
    }

    @Override
    public void detach(Route route, boolean handOn) {}

    /** Workers accept until they stop, as each would without sticky: the socket has no slot to steer away. */
    @Override
    public void stopAccepting() {}

    /** Closes the master's copy and its own link; the path stays, as the JDK leaves it. */
    @Override
    public void close() {
        try {
            closer.close();
            if (kept != null) {
                Files.deleteIfExists(kept);
            }
        } catch (IOException e) {
            log.warn("closing {}: {}", name(), e.toString());
        }
    }
}
