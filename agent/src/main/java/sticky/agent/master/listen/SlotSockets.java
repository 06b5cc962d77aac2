package sticky.agent.master.listen;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.NetworkChannel;
import java.util.ArrayList;
import java.util.List;
import sticky.agent.common.IpAddresses;
import sticky.agent.common.Protocol.BindRequest;
import sticky.agent.jvm.JdkAccess;
import sticky.agent.unix.Libc;
import sticky.agent.unix.TcpInfo;

/**
 * The listening sockets (or UDP sockets) of a listener the kernel dispatches: a SO_REUSEPORT
 * group on one address and port. Each slot starts with one, bound in slot
 * order; a rolling restart's replacement gets one of its own ({@link #add}),
 * so that the old worker's socket gets no new connection while it finishes
 * what it has, and is closed once that worker is gone. A {@link SlotProgram}
 * attached to the group picks a socket by its index in the group: the order
 * of binding, except that when a socket leaves, the kernel moves the last
 * one into its place (net/core/sock_reuseport.c, __reuseport_detach_sock;
 * read in Linux 5.10 and 6.x). This class keeps that order, so that the
 * program's indices stay right, and keeps every socket open until it closes
 * it itself: a socket, its place in the group and its backlog outlive the
 * worker that accepted from it. Used on the master's loop only.
 */
final class SlotSockets {
    /** linux/asm-generic/socket.h */
    private static final int SO_ATTACH_REUSEPORT_CBPF = 51;

    /**
     * What a socket of the group is for ({@link KernelDispatch} decides):
     * HOME, its slot's, where the slot's live worker accepts and its next
     * worker will; HELD, a process's that is no home (a replacement's before
     * it goes live, a leaving worker's, one made for a new master); SINK,
     * where new connections wait at a stop, never accepted; SPARE, nobody's,
     * idle, for the next upgrade's new slots; FOREIGN, an old master's, in
     * the new master, until the old master and its workers are gone.
     */
    enum Role { HOME, HELD, SINK, SPARE, FOREIGN }

    /** One socket of the group: the master's copy (a channel it bound, or a descriptor an old master handed it). */
    static final class Socket {
        final int fd;
        private final java.io.Closeable closer;
        Role role = Role.HELD;
        /** The slot whose home it is, or -1. */
        int slot = -1;
        /** The processes that hold a copy of it (pids; a new master's stands in as -1). */
        final List<Long> holders = new ArrayList<>();

        private Socket(NetworkChannel channel) {
            this.fd = JdkAccess.channelFd(channel);
            this.closer = channel;
        }

        private Socket(int fd) {
            this.fd = fd;
            this.closer = () -> Libc.close(fd);
        }

        boolean isHomeOf(int s) {
            return role == Role.HOME && slot == s;
        }

        void becomes(Role next, int ofSlot) {
            role = next;
            slot = ofSlot;
        }

        void close() throws IOException {
            closer.close();
        }
    }

    private final BindRequest request;
    private final int backlog;
    private final List<Socket> group = new ArrayList<>();
    private final InetSocketAddress local;
    private boolean closed;

    private SlotSockets(BindRequest request, int backlog, List<Socket> sockets, InetSocketAddress local) {
        this.request = request;
        this.backlog = backlog;
        this.group.addAll(sockets);
        this.local = local;
    }

    /**
     * Upgrade: the whole group as the old master held it, in the group's
     * order (the new master holds a copy of every socket from then on, so the
     * order stays known to it).
     */
    static SlotSockets adopt(BindRequest request, int backlog, List<Integer> fds) throws IOException {
        List<Socket> sockets = new ArrayList<>();
        fds.forEach(fd -> sockets.add(new Socket(fd)));
        return new SlotSockets(request, backlog, sockets, Listener.handedAddress(fds.get(0)));
    }

    /** Binds one socket per slot as the application asked; the JDK's own BindException if the port is taken. */
    static SlotSockets open(BindRequest request, int slots, int backlog) throws IOException {
        if (request.port() != 0) {
            // Without this, a port held by another reuseport group of this user would be joined, not refused.
            bind(request, request.port(), false, 1).close();
        }
        List<NetworkChannel> channels = new ArrayList<>();
        try {
            int port = request.port();
            for (int slot = 0; slot < slots; slot++) {
                NetworkChannel channel = bind(request, port, true, backlog);
                channels.add(channel);
                port = ((InetSocketAddress) channel.getLocalAddress()).getPort();
            }
            List<Socket> sockets = new ArrayList<>();
            channels.forEach(c -> sockets.add(new Socket(c)));
            return new SlotSockets(request, backlog, sockets, (InetSocketAddress) channels.get(0).getLocalAddress());
        } catch (IOException | RuntimeException e) {
            for (NetworkChannel channel : channels) {
                channel.close();
            }
            throw e;
        }
    }

    /** A TCP listening socket, or a UDP socket, as the request asks. */
    private static NetworkChannel bind(BindRequest request, int port, boolean reusePort, int backlog) throws IOException {
        return request.datagram() ? Listener.bindDatagram(request, port, reusePort)
                : Listener.bind(request, port, reusePort, backlog);
    }

    InetSocketAddress localAddress() {
        return local;
    }

    String name() {
        return (request.datagram() ? "udp " : "") + IpAddresses.hostPort(local);
    }

    /** The group in its order: the program's indices. */
    List<Socket> group() {
        return List.copyOf(group);
    }

    /** The socket bound for slot (0-based) when the group was opened. */
    Socket initial(int slot) {
        return group.get(slot);
    }

    /** The socket of the group with that descriptor, or null. */
    Socket find(int fd) {
        for (Socket socket : group) {
            if (socket.fd == fd) {
                return socket;
            }
        }
        return null;
    }

    /** The socket of the group that is slot's home, or null. */
    Socket homeOf(int slot) {
        for (Socket socket : group) {
            if (socket.isHomeOf(slot)) {
                return socket;
            }
        }
        return null;
    }

    /** The first socket of the group in that role, or null. */
    Socket first(Role role) {
        for (Socket socket : group) {
            if (socket.role == role) {
                return socket;
            }
        }
        return null;
    }

    /** A new socket at the end of the group; it gets connections once the program sends it some. */
    Socket add() throws IOException {
        Socket socket = new Socket(bind(request, local.getPort(), true, backlog));
        group.add(socket);
        return socket;
    }

    /** Whether socket is the group's last: only its close moves no other socket to another index. */
    boolean isLast(Socket socket) {
        return !group.isEmpty() && group.get(group.size() - 1) == socket;
    }

    /** The master's copy leaves the group (its workers must have closed theirs); the last socket takes its place. */
    void close(Socket socket) throws IOException {
        int i = group.indexOf(socket);
        if (closed || i < 0) {
            return;
        }
        group.set(i, group.get(group.size() - 1));
        group.remove(group.size() - 1);
        socket.close();
    }

    /** Connections in the socket's accept queue, which no worker has accepted yet; for UDP, 1 if a datagram waits. */
    int queued(Socket socket) {
        if (closed || !group.contains(socket)) {
            return 0;
        }
        if (request.datagram()) {
            return Libc.readable(socket.fd) > 0 ? 1 : 0; // on UDP, the size of the next datagram
        }
        TcpInfo info = TcpInfo.of(socket.fd);
        return info == null ? 0 : info.unacked();
    }

    /**
     * Accepts and closes every connection queued on socket (for UDP, reads
     * every datagram), which no worker will take: the socket stays in the
     * group, so that no other socket moves to its index (see the class
     * comment). Poll first, so that an empty queue never blocks the loop in
     * accept. Returns how many there were.
     */
    int dropQueued(Socket socket) {
        if (closed || !group.contains(socket)) {
            return 0;
        }
        int dropped = 0;
        byte[] datagram = new byte[65536];
        try (Memory pollfd = new Memory(8)) {
            while (true) {
                pollfd.setInt(0, socket.fd);
                pollfd.setShort(4, Libc.POLLIN);
                pollfd.setShort(6, (short) 0);
                if (Libc.poll(pollfd, 1, 0) <= 0 || (pollfd.getShort(6) & Libc.POLLIN) == 0) {
                    return dropped;
                }
                if (request.datagram()) {
                    if (Libc.read(socket.fd, datagram, datagram.length) < 0) {
                        return dropped;
                    }
                } else {
                    int connection = Libc.accept4(socket.fd, null, null, Libc.SOCK_CLOEXEC);
                    if (connection < 0) {
                        return dropped;
                    }
                    Libc.close(connection);
                }
                dropped++;
            }
        }
    }

    /** Queues each slot's new connections on the socket target[slot]. */
    void route(Socket[] target) throws IOException {
        if (closed) {
            return;
        }
        int[] index = new int[target.length];
        for (int slot = 0; slot < target.length; slot++) {
            index[slot] = group.indexOf(target[slot]);
        }
        ByteBuffer program = SlotProgram.build(index);
        // struct sock_fprog {unsigned short len; struct sock_filter *filter;}
        try (Memory filters = new Memory(program.remaining()); Memory fprog = new Memory(2L * Native.POINTER_SIZE)) {
            filters.write(0, program.array(), 0, program.remaining());
            fprog.setShort(0, (short) (program.remaining() / SlotProgram.INSTRUCTION_SIZE));
            fprog.setPointer(Native.POINTER_SIZE, filters);
            if (Libc.setsockopt(group.get(0).fd, Libc.SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, fprog,
                    (int) fprog.size()) < 0) {
                int errno = Libc.errno();
                throw new SocketException("sticky: attaching the slot program: " + Libc.strerror(errno)
                        + (errno == Libc.ENOPROTOOPT ? " (the kernel has had this option since Linux 4.5; an emulator"
                                + " such as qemu-user, which does not pass it on, may be between the JVM and the kernel:"
                                + " run the JVM natively for kernel dispatch, or set dispatch=master)" : ""));
            }
        }
    }

    /** Closes the master's copies; a socket stays open (and in the group) while a worker holds it. */
    void close() throws IOException {
        if (!closed) {
            closed = true;
            for (Socket socket : group) {
                socket.close();
            }
        }
    }
}
