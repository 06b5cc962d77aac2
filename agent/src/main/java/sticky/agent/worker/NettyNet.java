package sticky.agent.worker;

import com.sun.jna.Memory;
import java.io.FileDescriptor;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import sticky.agent.unix.Libc;
import sticky.agent.unix.Sockaddr;

/**
 * The worker's side of the hooks in Netty's native {@code Socket} (its epoll
 * transport, see {@link NettyRewriter}). A Netty server channel's bind goes to
 * the master as the JDK's do; Netty's epoll then waits on the socket the
 * master sends connections on, and its accept receives them. Netty names
 * descriptors by number: each sticky one gets a {@link FileDescriptor}
 * holding that number, so that {@link StickyNet} serves it as it serves the
 * JDK's.
 */
final class NettyNet {
    /** accept's answer for a descriptor that is not sticky: the rewritten accept then runs Netty's own. */
    static final int NOT_STICKY = Integer.MIN_VALUE;
    private static final StackWalker STACK = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);

    private final StickyNet net;
    /** Netty's sticky descriptors by number; direct: accepted from the slot's socket (kernel dispatch). */
    private record Sticky(FileDescriptor descriptor, boolean direct) {}

    private final Map<Integer, Sticky> sockets = new ConcurrentHashMap<>();

    NettyNet(StickyNet net) {
        this.net = net;
    }

    /** Socket.bind(SocketAddress): the master binds it if a Netty server channel is binding. */
    boolean bind(int fd, SocketAddress address) throws IOException {
        if (!(address instanceof InetSocketAddress inet) || inet.getAddress() == null || !calledByServerChannel()) {
            return false; // a client's bind, a domain socket or an unresolved name: Netty's own bind
        }
        FileDescriptor descriptor = new FileDescriptor();
        JdkNet.setFdVal(descriptor, fd);
        net.bind(true, null, descriptor, inet.getAddress(), inet.getPort());
        if (net.isSticky(descriptor)) { // else a private port, bound by the worker itself: Netty listens on it
            sockets.put(fd, new Sticky(descriptor, net.direct(descriptor))); // fixed at bind: decided once
        }
        return true;
    }

    /** Socket.listen: nothing to do for a sticky socket, the master listens. */
    boolean listen(int fd) {
        return sockets.containsKey(fd);
    }

    /**
     * Socket.accept(byte[]): the socket the master sent (or, with kernel
     * dispatch, one accepted from the slot's socket), with its peer written
     * as Netty's native accept writes it (length, address, [scope id,] port;
     * see io.netty.channel.unix.NativeInetAddress.address, Netty 4.1 and 4.2);
     * -1 when none is queued, as Netty's own accept answers EAGAIN.
     */
    int accept(int fd, byte[] address) throws IOException {
        Sticky sticky = sockets.get(fd);
        if (sticky == null) {
            return NOT_STICKY;
        }
        if (sticky.direct()) {
            return acceptDirect(fd, address);
        }
        FileDescriptor accepted = new FileDescriptor();
        InetSocketAddress[] peer = new InetSocketAddress[1];
        if (net.accept(sticky.descriptor(), accepted, peer) != 1) {
            return -1; // none queued, or interrupted: epoll says when to try again
        }
        encode(peer[0], address);
        int socket = JdkNet.fdVal(accepted);
        // Netty's own accept4 makes its sockets non-blocking, and its event loops rely on it.
        Libc.fcntl(socket, Libc.F_SETFL, Libc.O_NONBLOCK);
        return socket;
    }

    /**
     * Accepts from the slot's listening socket (kernel dispatch) as Netty's
     * native accept does, accept4 with SOCK_NONBLOCK and SOCK_CLOEXEC, and
     * counts it. The JDK's accept would cost a JNI upcall per address object
     * and an fcntl for the flag, about 5 us more per connection (measured).
     */
    private int acceptDirect(int fd, byte[] address) throws IOException {
        Peer p = PEERS.get();
        p.length.setInt(0, Sockaddr.MAX_SIZE);
        int socket = Libc.accept4(fd, p.sockaddr, p.length, Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC);
        if (socket < 0) {
            int errno = Libc.errno();
            if (errno == Libc.EAGAIN || errno == Libc.EINTR) {
                return -1; // epoll says when to try again
            }
            throw new SocketException("accept: " + Libc.strerror(errno));
        }
        int length = Sockaddr.address(p.sockaddr, p.peer);
        encode(p.peer, length, length == 16 ? Sockaddr.scopeId(p.sockaddr) : 0, Sockaddr.port(p.sockaddr), address);
        net.countAccepted();
        return socket;
    }

    /** A thread's buffers for accept4's peer: Netty accepts on its event loops, which accept again and again. */
    private static final class Peer {
        final Memory sockaddr = new Memory(Sockaddr.MAX_SIZE);
        final Memory length = new Memory(4);
        final byte[] peer = new byte[16];
    }

    private static final ThreadLocal<Peer> PEERS = ThreadLocal.withInitial(Peer::new);

    static void encode(InetSocketAddress peer, byte[] into) {
        byte[] bytes = peer.getAddress().getAddress();
        int scope = peer.getAddress() instanceof Inet6Address v6 ? v6.getScopeId() : 0;
        encode(bytes, bytes.length, scope, peer.getPort(), into);
    }

    /** The first length (4 or 16) bytes of address, then the scope id for 16, then the port. */
    static void encode(byte[] address, int length, int scope, int port, byte[] into) {
        ByteBuffer b = ByteBuffer.wrap(into).position(1); // big-endian, as Netty decodes it
        b.put(address, 0, length);
        if (length == 16) {
            b.putInt(scope);
        }
        b.putInt(port);
        into[0] = (byte) (b.position() - 1);
    }

    InetSocketAddress localAddress(int fd) throws IOException {
        Sticky sticky = sockets.get(fd);
        return sticky == null ? null : net.localAddress(sticky.descriptor());
    }

    /** Netty is closing fd: a sticky socket's lifeline goes with it. */
    void closing(int fd) {
        Sticky sticky = sockets.remove(fd);
        if (sticky != null) {
            net.closing(sticky.descriptor());
            JdkNet.setFdVal(sticky.descriptor(), -1); // closed: the number is free for reuse
        }
    }

    /**
     * Netty binds client sockets with the same call; a server channel
     * (io.netty.channel.ServerChannel, or a shaded copy) is on the stack of a
     * server's bind: EpollServerSocketChannel.doBind calls it.
     */
    private static boolean calledByServerChannel() {
        return STACK.walk(frames -> frames.anyMatch(f -> isServerChannel(f.getDeclaringClass())));
    }

    private static boolean isServerChannel(Class<?> type) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            for (Class<?> i : c.getInterfaces()) {
                if (i.getName().endsWith("io.netty.channel.ServerChannel") || isServerChannel(i)) {
                    return true;
                }
            }
        }
        return false;
    }
}
