package sticky.agent.worker;

import java.io.FileDescriptor;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import sticky.agent.common.Protocol;
import sticky.agent.common.Protocol.Handoff;
import sticky.agent.unix.FdPasser;
import sticky.agent.unix.Libc;

/**
 * A server socket of the application whose descriptor number now holds the
 * socket the master sends accepted connections on (see {@link StickyNet#bind}).
 * Accepting on it receives one; its local address is the one the
 * master bound; its options are kept here, since the descriptor is no longer
 * a TCP socket. A direct one holds its slot's listening socket instead (kernel
 * dispatch): accept and options are the JDK's own.
 */
final class StickySocket {
    /** Options a listening socket passes on to the sockets accepted from it. */
    private static final Set<SocketOption<?>> INHERITED = Set.of(StandardSocketOptions.SO_RCVBUF,
            StandardSocketOptions.IP_TOS);

    private static final ThreadLocal<Receiver> RECEIVERS = ThreadLocal.withInitial(Receiver::new);

    private static final class Receiver {
        final FdPasser passer = new FdPasser();
        final FdPasser.Received received = new FdPasser.Received();
        final byte[] payload = new byte[FdPasser.MAX_PAYLOAD];
    }

    final FileDescriptor fd;
    final int number;
    final ProtocolFamily family;
    final InetAddress requestedAddress;
    final int requestedPort;
    final InetSocketAddress local;
    final boolean direct;
    /** A UDP socket of its slot (always direct). */
    final boolean datagram;
    /** The bind's connection to the master, closed with the server socket; -1 once closed. */
    private final AtomicInteger lifeline;
    private final String openFile;
    private final Map<SocketOption<?>, Object> options;
    private final Map<SocketOption<?>, Object> forAccepted = new ConcurrentHashMap<>();

    StickySocket(FileDescriptor fd, ProtocolFamily family, InetAddress requestedAddress, int requestedPort,
            InetSocketAddress local, int lifeline, Map<SocketOption<?>, Object> optionsAtBind, boolean direct,
            boolean datagram) {
        this.fd = fd;
        this.number = JdkNet.fdVal(fd);
        this.family = family;
        this.requestedAddress = requestedAddress;
        this.requestedPort = requestedPort;
        this.local = local;
        this.direct = direct;
        this.datagram = datagram;
        this.lifeline = new AtomicInteger(lifeline);
        this.openFile = openFile(number);
        this.options = new ConcurrentHashMap<>(optionsAtBind);
    }

    /**
     * Open until the JDK closes it: every close of a sticky socket closes its
     * lifeline first ({@link StickyNet#closing}). (Its FileDescriptor keeps its
     * number after an NIO close, JDK 17 and 25: that says nothing.)
     */
    boolean isOpen() {
        return lifeline.get() >= 0;
    }

    int accept(FileDescriptor newfd, InetSocketAddress[] isaa) throws IOException {
        Receiver r = RECEIVERS.get();
        r.passer.receive(number, r.payload, r.received);
        long n = r.received.length;
        if (n > 0) {
            return accepted(r, newfd, isaa);
        }
        if (n == 0) {
            // The JDK's close first dup2s a dead socket over the descriptor: then end of
            // stream means "closed", which the JDK reports itself when told to retry.
            if (!openFile.equals(openFile(number))) {
                return JdkNet.INTERRUPTED;
            }
            throw new SocketException("sticky: the connection to the master is closed");
        }
        int errno = (int) -n;
        if (errno == Libc.EAGAIN) {
            return JdkNet.UNAVAILABLE;
        }
        if (errno == Libc.EINTR) {
            return JdkNet.INTERRUPTED;
        }
        throw new SocketException(Libc.strerror(errno));
    }

    private int accepted(Receiver r, FileDescriptor newfd, InetSocketAddress[] isaa) throws IOException {
        int socket = r.received.fd;
        if (socket < 0) {
            throw new SocketException(r.received.truncated ? "Too many open files" : "sticky: a handoff without a socket");
        }
        try {
            Handoff handoff = (Handoff) Protocol.decode(Arrays.copyOf(r.payload, (int) r.received.length));
            JdkNet.setFdVal(newfd, socket);
            isaa[0] = handoff.peer();
        } catch (IOException | ClassCastException e) {
            Libc.close(socket);
            throw new SocketException("sticky: bad handoff from the master: " + e.getMessage());
        }
        for (Map.Entry<SocketOption<?>, Object> option : forAccepted.entrySet()) {
            JdkNet.setSocketOption(newfd, JdkNet.optionFamily(option.getKey(), family), option.getKey(),
                    option.getValue());
        }
        return 1;
    }

    /** The server socket is being closed: tells the master, once. */
    void closeLifeline() {
        int fd = lifeline.getAndSet(-1);
        if (fd >= 0) {
            Libc.close(fd);
        }
    }

    void setOption(SocketOption<?> name, Object value) {
        options.put(name, value);
        if (INHERITED.contains(name)) {
            forAccepted.put(name, value);
        }
    }

    Object getOption(SocketOption<?> name) throws IOException {
        Object value = options.get(name);
        if (value == null) {
            throw new SocketException("sticky: option " + name + " is not available on this server socket");
        }
        return value;
    }

    /** What the descriptor number refers to, e.g. "socket:[123456]". */
    private static String openFile(int fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        } catch (IOException e) {
            return "";
        }
    }
}
