package sticky.agent.worker;

import java.io.FileDescriptor;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import org.slf4j.Logger;
import sticky.agent.common.Protocol.BindError;
import sticky.agent.common.Protocol.BindOk;
import sticky.agent.common.Protocol.BindRequest;
import sticky.agent.common.Protocol.Message;
import sticky.agent.common.Protocol;
import sticky.agent.common.SlotCounts;
import sticky.agent.jvm.Logs;
import sticky.agent.unix.FdPasser;
import sticky.agent.unix.Libc;
import sticky.agent.unix.UnixSocket;

/**
 * The worker's side of the hook ({@code sticky.bootstrap.NetHook} forwards
 * here). A bind of a server socket becomes a request to the master; its answer
 * brings the socket the master will send accepted connections on, which the
 * worker dup2s onto the server socket's own descriptor number. From then on
 * the JDK's selectors, poll and blocking accept wait on it and wake exactly
 * when the master sends a socket; accept receives it. When the kernel
 * dispatches, the answer brings the listening socket of the worker's slot
 * instead, and the JDK's own accept and options serve it as any other. The request's
 * connection stays open as the lifeline: closing the server socket closes it,
 * which tells the master. Every other descriptor goes to the original
 * {@code sun.nio.ch.Net}.
 */
final class StickyNet {
    private static final Logger log = Logs.get();
    private static final List<SocketOption<?>> OPTIONS_AT_BIND = List.of(StandardSocketOptions.SO_RCVBUF,
            StandardSocketOptions.SO_REUSEADDR, StandardSocketOptions.SO_REUSEPORT, StandardSocketOptions.IP_TOS);

    private final int worker;
    /** Binds of these ports are the worker's own, at the port plus its id (private=). */
    private final Set<Integer> privatePorts;
    private final String secret;
    private final Path control;
    /** What this worker accepts from its slot's sockets (kernel dispatch), for the master's status. */
    private final SlotCounts accepted;
    /** SO_RCVBUF of a fresh TCP and UDP socket, read as the application's is (see appReceiveBuffer). */
    private final int defaultStreamReceiveBuffer = defaultReceiveBuffer(Libc.SOCK_STREAM);
    private final int defaultDatagramReceiveBuffer = defaultReceiveBuffer(Libc.SOCK_DGRAM);
    /** Descriptors NioSocketImpl made for a ServerSocket (Net.serverSocket), by identity. */
    private final Map<FileDescriptor, Boolean> serverDescriptors = Collections.synchronizedMap(new WeakHashMap<>());
    /** Sticky sockets by descriptor identity: descriptor numbers are reused after close. */
    private final Map<FileDescriptor, StickySocket> sockets = Collections.synchronizedMap(new WeakHashMap<>());
    /** Their numbers, a lock-free first check for the many calls on other descriptors. */
    private volatile int[] numbers = new int[0];

    StickyNet(int worker, String secret, Path control, Set<Integer> privatePorts) throws IOException {
        this.worker = worker;
        this.privatePorts = privatePorts;
        this.secret = secret;
        this.control = control;
        this.accepted = SlotCounts.open(control.resolveSibling(SlotCounts.FILE));
    }

    private StickySocket sticky(FileDescriptor fd) {
        int number = JdkNet.fdVal(fd);
        for (int n : numbers) {
            if (n == number) {
                return sockets.get(fd);
            }
        }
        return null;
    }

    FileDescriptor serverSocket(Object[] originalArgs) {
        FileDescriptor fd = JdkNet.serverSocket(originalArgs);
        serverDescriptors.put(fd, Boolean.TRUE);
        return fd;
    }

    void bind(boolean knownServer, ProtocolFamily family, FileDescriptor fd, InetAddress addr, int port)
            throws IOException {
        if (!knownServer && serverDescriptors.get(fd) == null || boundForTheJvm()) {
            JdkNet.bind(family, fd, addr, port); // a client socket's bind, or the JVM's own server
            return;
        }
        if (privatePorts.contains(port)) {
            bindPrivate(family, fd, addr, port);
            return;
        }
        ProtocolFamily socketFamily = familyOf(fd);
        Map<SocketOption<?>, Object> options = optionsOf(fd, socketFamily);
        BindRequest request = new BindRequest(worker, secret, socketFamily == StandardProtocolFamily.INET ? 4 : 6,
                addr, port, openBindsOf(false, socketFamily, addr, port), appReceiveBuffer(options, false),
                Boolean.TRUE.equals(options.get(StandardSocketOptions.SO_REUSEPORT)), false, "");
        bindThroughMaster(request, fd, socketFamily, options, "server socket");
    }

    /**
     * A UDP socket's bind. One of a fixed port becomes its slot's socket of a
     * SO_REUSEPORT group the master holds, which the kernel gives the
     * datagrams of this slot's clients (by source address, whatever route=
     * says: a datagram has no other), dup2ed onto fd; from then on the JDK
     * reads and writes it as its own. A bind of port 0 (a client's socket,
     * DNS lookups among them), one the application shares itself
     * (SO_REUSEPORT or SO_REUSEADDR set: multicast receivers) and the JVM's own stay the
     * worker's; so does the JDK's rebind of a socket it repairs after a
     * disconnect (DatagramChannelImpl.repairSocket, JDK 17 and 25).
     */
    void bindDatagram(ProtocolFamily family, FileDescriptor fd, InetAddress addr, int port) throws IOException {
        ProtocolFamily socketFamily = familyOf(fd);
        Map<SocketOption<?>, Object> options = port == 0 ? Map.of() : optionsOf(fd, socketFamily);
        if (port == 0 || Boolean.TRUE.equals(options.get(StandardSocketOptions.SO_REUSEPORT))
                || Boolean.TRUE.equals(options.get(StandardSocketOptions.SO_REUSEADDR)) || boundForTheJvm()
                || repairing()) {
            JdkNet.bind(family, fd, addr, port);
            return;
        }
        if (privatePorts.contains(port)) {
            bindPrivate(family, fd, addr, port);
            return;
        }
        BindRequest request = new BindRequest(worker, secret, socketFamily == StandardProtocolFamily.INET ? 4 : 6,
                addr, port, openBindsOf(true, socketFamily, addr, port), appReceiveBuffer(options, true), false, true,
                "");
        bindThroughMaster(request, fd, socketFamily, options, "UDP socket");
    }

    /**
     * A Unix-domain server socket's bind (ServerSocketChannelImpl.unixBind,
     * JDK 17 and 25): there is no client address to hash, so the master binds
     * the path once and every worker accepts from that one socket, dup2ed
     * onto fd; the JDK's listen, accept and localAddress then serve it.
     */
    void bindUnix(FileDescriptor fd, Path path) throws IOException {
        if (boundForTheJvm()) {
            JdkNet.bindUnix(fd, path);
            return;
        }
        BindRequest request = new BindRequest(worker, secret, Protocol.UNIX, InetAddress.getByAddress(new byte[4]), 0,
                0, 0, false, false, path.toAbsolutePath().toString());
        bindThroughMaster(request, fd, StandardProtocolFamily.UNIX, Map.of(), "Unix-domain server socket");
    }

    /** The family of the socket fd names, as created: IPv4, or IPv6 (dual-stack included). */
    private static ProtocolFamily familyOf(FileDescriptor fd) {
        return Libc.getIntOption(JdkNet.fdVal(fd), Libc.SOL_SOCKET, Libc.SO_DOMAIN) == Libc.AF_INET
                ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6;
    }

    /**
     * Asks the master to bind as request says, puts the socket of its answer
     * in fd's place, and keeps fd as a sticky socket from then on.
     */
    private void bindThroughMaster(BindRequest request, FileDescriptor fd, ProtocolFamily family,
            Map<SocketOption<?>, Object> options, String what) throws IOException {
        Bound bound = handshake(request, JdkNet.fdVal(fd));
        sockets.put(fd, new StickySocket(fd, family, request.address(), request.port(), bound.address(),
                bound.lifeline(), options, bound.direct(), request.datagram()));
        refreshNumbers();
        log.debug("worker {}: {} bound to {} through the master", worker, what,
                request.path().isEmpty() ? bound.address() : request.path());
    }

    /**
     * A private port (a management or metrics server, which must not be
     * clustered): bound by the worker itself at the port plus its id, with
     * SO_REUSEPORT, so that a rolling restart's replacement binds it while
     * the old worker still holds it, and the port of each slot stays the
     * same for whoever scrapes it.
     */
    private void bindPrivate(ProtocolFamily family, FileDescriptor fd, InetAddress addr, int port) throws IOException {
        JdkNet.setSocketOption(fd, null, StandardSocketOptions.SO_REUSEPORT, true);
        JdkNet.bind(family, fd, addr, port + worker);
        log.debug("worker {}: private port {} bound as {}", worker, port, port + worker);
    }

    /** Whether fd is now one of the sockets the master serves (not a private or client socket). */
    boolean isSticky(FileDescriptor fd) {
        return sticky(fd) != null;
    }

    private static boolean repairing() {
        return StackWalker.getInstance().walk(frames -> frames.anyMatch(f -> f.getMethodName().equals("repairSocket")
                && f.getClassName().equals("sun.nio.ch.DatagramChannelImpl")));
    }

    /**
     * Server sockets the JVM opens for itself stay the worker's own: the JMX
     * agent's and RMI's (their clients must reach this very worker, which
     * gets a port of its own, see WorkerCommand).
     */
    private static boolean boundForTheJvm() {
        return StackWalker.getInstance().walk(frames -> frames.anyMatch(f -> {
            String c = f.getClassName();
            return c.startsWith("sun.rmi.") || c.startsWith("jdk.internal.agent.") || c.startsWith("sun.management.");
        }));
    }

    /**
     * Asks the master to listen. On success the socket in its answer replaces
     * the server socket's descriptor, and the request's connection is returned:
     * the lifeline, open as long as the server socket is.
     */
    private Bound handshake(BindRequest request, int number) throws IOException {
        int connection;
        try {
            connection = MasterSocket.connect(control);
        } catch (IOException e) {
            throw new SocketException("sticky: cannot reach the master: " + e.getMessage());
        }
        int handoffs = -1;
        try {
            UnixSocket.send(connection, Protocol.encode(request));
            byte[] buffer = new byte[4096];
            FdPasser.Received received = new FdPasser.Received();
            new FdPasser(buffer.length).receive(connection, buffer, received);
            handoffs = received.fd;
            if (received.length <= 0) {
                throw new SocketException("sticky: the master closed the connection during a bind");
            }
            Message reply = Protocol.decode(Arrays.copyOf(buffer, (int) received.length));
            if (reply instanceof BindError error) {
                throw error.bindException() ? new BindException(error.message()) : new SocketException(error.message());
            }
            if (!(reply instanceof BindOk ok) || handoffs < 0) {
                throw new SocketException("sticky: unexpected reply from the master");
            }
            // O_NONBLOCK belongs to the open file, not the number: carry the server socket's mode over.
            int flags = Libc.fcntl(number, Libc.F_GETFL, 0);
            if (flags >= 0 && (flags & Libc.O_NONBLOCK) != 0) {
                Libc.fcntl(handoffs, Libc.F_SETFL, Libc.fcntl(handoffs, Libc.F_GETFL, 0) | Libc.O_NONBLOCK);
            }
            // Atomically closes the unbound TCP socket and puts the handoff socket in its place.
            if (Libc.dup2(handoffs, number) < 0) {
                throw UnixSocket.error("dup2");
            }
            Bound bound = new Bound(ok.bound(), connection, ok.direct());
            connection = -1;
            return bound;
        } finally {
            UnixSocket.close(handoffs);
            UnixSocket.close(connection);
        }
    }

    private record Bound(InetSocketAddress address, int lifeline, boolean direct) {}

    private Map<SocketOption<?>, Object> optionsOf(FileDescriptor fd, ProtocolFamily family) {
        Map<SocketOption<?>, Object> options = new HashMap<>();
        for (SocketOption<?> option : OPTIONS_AT_BIND) {
            try {
                options.put(option, JdkNet.getSocketOption(fd, JdkNet.optionFamily(option, family), option));
            } catch (IOException | RuntimeException | AssertionError unsupported) {
                // not every option exists on every platform and family (Net asserts "Option not found")
            }
        }
        return options;
    }

    /**
     * SO_RCVBUF as the application set it before bind, for the master to set
     * on its sockets before it binds them (so that accepted sockets inherit
     * it, and the window scale chosen at SYN time fits it, as without sticky),
     * or 0 if it was left as a fresh socket has it: setting even the default
     * would lock the buffer's size and turn off the kernel's autotuning.
     * Linux keeps (and getsockopt reports) twice the value set, but the JDK
     * halves SO_RCVBUF read without a family (Net.getIntOption0 with
     * mayNeedConversion, then NET_GetSockOpt; JDK 17 and 25): what optionsOf
     * read is the value the application set, which the master sets as it is.
     */
    private int appReceiveBuffer(Map<SocketOption<?>, Object> options, boolean datagram) {
        Object value = options.get(StandardSocketOptions.SO_RCVBUF);
        int fresh = datagram ? defaultDatagramReceiveBuffer : defaultStreamReceiveBuffer;
        return value instanceof Integer size && size != fresh ? size : 0;
    }

    /** SO_RCVBUF of a fresh socket of type (SOCK_STREAM, SOCK_DGRAM), read through the JDK as optionsOf reads it. */
    private static int defaultReceiveBuffer(int type) {
        int fd = Libc.socket(Libc.AF_INET6, type | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            fd = Libc.socket(Libc.AF_INET, type | Libc.SOCK_CLOEXEC, 0);
        }
        try {
            FileDescriptor descriptor = new FileDescriptor();
            JdkNet.setFdVal(descriptor, fd);
            return (Integer) JdkNet.getSocketOption(descriptor, null, StandardSocketOptions.SO_RCVBUF);
        } catch (IOException e) {
            return -1; // then any value the application's socket has is passed on
        } finally {
            Libc.close(fd);
        }
    }

    /** How many sticky sockets this worker has open for the same request: Node's bind index. */
    private int openBindsOf(boolean datagram, ProtocolFamily family, InetAddress addr, int port) {
        int count = 0;
        synchronized (sockets) {
            for (StickySocket s : sockets.values()) {
                if (s.isOpen() && s.datagram == datagram && s.family.equals(family) && s.requestedAddress.equals(addr) && s.requestedPort == port) {
                    count++;
                }
            }
        }
        return count;
    }

    private void refreshNumbers() {
        List<Integer> open = new ArrayList<>();
        synchronized (sockets) {
            for (StickySocket s : sockets.values()) {
                if (s.isOpen()) {
                    open.add(s.number);
                }
            }
        }
        numbers = open.stream().mapToInt(Integer::intValue).toArray();
    }

    void listen(FileDescriptor fd, int backlog) throws IOException {
        if (sticky(fd) == null) {
            JdkNet.listen(fd, backlog);
        }
        // A sticky socket listens in the master, which bound and listened at bind.
    }

    InetSocketAddress localAddress(FileDescriptor fd) throws IOException {
        StickySocket s = sticky(fd);
        return s != null ? s.local : JdkNet.localAddress(fd);
    }

    /**
     * The JDK is about to close (or pre-close) fd: if it is a sticky socket,
     * its lifeline goes now, so that the master takes back what it had queued
     * for it and sends it nothing more. Called for every socket the hooked
     * classes close, accepted connections included: the check is a number
     * comparison.
     */
    void closing(FileDescriptor fd) {
        StickySocket s = sticky(fd);
        if (s != null) {
            s.closeLifeline();
            refreshNumbers();
        }
    }

    int accept(FileDescriptor fd, FileDescriptor newfd, InetSocketAddress[] isaa) throws IOException {
        StickySocket s = sticky(fd);
        if (s == null) {
            return JdkNet.accept(fd, newfd, isaa);
        }
        if (!s.direct) {
            int n = s.accept(newfd, isaa);
            if (n > 0) {
                accepted.taken(worker - 1); // for the master's watchdog: this worker takes its connections
            }
            return n;
        }
        int n = JdkNet.accept(fd, newfd, isaa);
        if (n > 0) {
            countAccepted();
        }
        return n;
    }

    /** One more connection this worker accepted from its slot's socket (kernel dispatch). */
    void countAccepted() {
        accepted.accepted(worker - 1);
    }

    /** Whether fd is a sticky socket the worker accepts from itself (kernel dispatch). */
    boolean direct(FileDescriptor fd) {
        StickySocket s = sticky(fd);
        return s != null && s.direct;
    }

    void setSocketOption(FileDescriptor fd, ProtocolFamily family, SocketOption<?> name, Object value)
            throws IOException {
        StickySocket s = sticky(fd);
        if (s != null && !s.direct) {
            s.setOption(name, value);
        } else {
            JdkNet.setSocketOption(fd, family, name, value);
        }
    }

    Object getSocketOption(FileDescriptor fd, ProtocolFamily family, SocketOption<?> name) throws IOException {
        StickySocket s = sticky(fd);
        return s != null && !s.direct ? s.getOption(name) : JdkNet.getSocketOption(fd, family, name);
    }
}
