package sticky.agent.unix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Real loopback connections, each socket known by the inode that appeared
 * among this process's descriptors when it was opened or accepted.
 */
class SocketDiagTest {
    private static final InetAddress V4 = address("127.0.0.1");
    private static final InetAddress V6 = address("::1");

    private final List<NetworkChannel> open = new ArrayList<>();

    /** One connection: the inodes of its two ends, and the client's local port. */
    private record Connection(long client, long accepted, int clientPort) {}

    @AfterEach
    void closeAll() throws IOException {
        for (NetworkChannel channel : open) {
            channel.close();
        }
        open.clear();
    }

    @Test
    void eachFamilyGivesTheAcceptedSocketsOfItsPort() throws IOException {
        ServerSocketChannel inet = listen(StandardProtocolFamily.INET, V4);
        ServerSocketChannel inet6 = listen(StandardProtocolFamily.INET6, V6);
        ServerSocketChannel dualStack = listen(null, V4); // AF_INET6, its IPv4 clients as ::ffff:127.0.0.1
        ServerSocketChannel idle = listen(StandardProtocolFamily.INET, V4);
        List<Connection> viaInet = connect(inet, 5);
        List<Connection> viaInet6 = connect(inet6, 4);
        List<Connection> viaDualStack = connect(dualStack, 3);

        assertEquals(accepted(viaInet), SocketDiag.established(Set.of(port(inet))));
        assertEquals(accepted(viaInet6), SocketDiag.established(Set.of(port(inet6))));
        assertEquals(accepted(viaDualStack), SocketDiag.established(Set.of(port(dualStack))));
        Set<Long> all = new HashSet<>(accepted(viaInet));
        all.addAll(accepted(viaInet6));
        all.addAll(accepted(viaDualStack));
        assertEquals(all, SocketDiag.established(Set.of(port(inet), port(inet6), port(dualStack), port(idle))));

        // both dumps were needed: the sockets are in the two tables
        assertTrue(table("tcp").containsAll(accepted(viaInet)), "AF_INET sockets");
        assertTrue(table("tcp6").containsAll(accepted(viaInet6)), "AF_INET6 sockets");
        assertTrue(table("tcp6").containsAll(accepted(viaDualStack)), "IPv4 clients of a dual-stack listener");

        // the local port is what counts: a client's is its own ephemeral port
        Connection first = viaInet.get(0);
        Set<Long> onClientPort = SocketDiag.established(Set.of(first.clientPort()));
        assertTrue(onClientPort.contains(first.client()));
        assertFalse(onClientPort.contains(first.accepted()));
    }

    @Test
    void aPortWithoutEstablishedConnectionsHasNone() throws IOException {
        ServerSocketChannel idle = listen(StandardProtocolFamily.INET, V4);
        assertEquals(Set.of(), SocketDiag.established(Set.of(port(idle))), "a listener is not established");

        ServerSocketChannel server = listen(StandardProtocolFamily.INET6, V6);
        SocketChannel client = SocketChannel.open(StandardProtocolFamily.INET6);
        open.add(client);
        client.connect(server.getLocalAddress());
        SocketChannel accepted = server.accept();
        open.add(accepted);
        assertEquals(1, SocketDiag.established(Set.of(port(server))).size());
        accepted.close(); // close(2) moves the socket to FIN_WAIT1 before it returns
        assertEquals(Set.of(), SocketDiag.established(Set.of(port(server))));
        assertEquals(Set.of(), SocketDiag.established(Set.of()));
    }

    @Test
    void otherConnectionsAreNeitherReturnedNorRead() throws IOException {
        ServerSocketChannel server = listen(StandardProtocolFamily.INET, V4);
        Set<Long> mine = accepted(connect(server, 6));
        Set<Integer> port = Set.of(port(server));
        assertEquals(mine, SocketDiag.established(port));
        long allocatedAlone = allocated(port);

        com.sun.management.UnixOperatingSystemMXBean os =
                (com.sun.management.UnixOperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long room = (os.getMaxFileDescriptorCount() - os.getOpenFileDescriptorCount() - 200) / 2;
        int others = (int) Math.min(2000, room);
        assertTrue(others >= 400, "descriptors for the other connections: " + room);
        ServerSocketChannel other = listen(StandardProtocolFamily.INET, V4);
        Set<Long> before = socketInodes();
        for (int i = 0; i < others; i++) {
            SocketChannel client = SocketChannel.open(StandardProtocolFamily.INET);
            open.add(client);
            client.setOption(StandardSocketOptions.SO_LINGER, 0); // closed with a reset: no TIME_WAIT left behind
            client.connect(other.getLocalAddress());
            open.add(other.accept());
        }
        Set<Long> opened = socketInodes();
        opened.removeAll(before);
        assertEquals(2 * others, opened.size());

        assertEquals(mine, SocketDiag.established(port));
        Set<Long> theirs = SocketDiag.established(Set.of(port(other)));
        assertEquals(others, theirs.size(), "the accepted ends: some 190 KB of replies, read in several datagrams");
        assertTrue(opened.containsAll(theirs));
        long allocatedAmongOthers = allocated(port);
        assertTrue(allocatedAmongOthers < allocatedAlone + 16 * 1024,
                allocatedAlone + " bytes allocated alone, " + allocatedAmongOthers + " among " + others + " others");
    }

    @Test
    void aThousandPortsInOneFilter() throws IOException {
        ServerSocketChannel server = listen(StandardProtocolFamily.INET6, V6);
        Set<Long> mine = accepted(connect(server, 3));
        Set<Integer> ports = IntStream.rangeClosed(1, SocketDiag.MAX_PORTS - 1).boxed().collect(Collectors.toSet());
        ports.add(port(server)); // ephemeral, above 1023
        Set<Long> found = SocketDiag.established(ports);
        assertTrue(found.containsAll(mine));
        Set<Long> myOthers = socketInodes();
        myOthers.removeAll(mine);
        assertTrue(found.stream().noneMatch(myOthers::contains), "nothing else of this process's");

        ports.add(SocketDiag.MAX_PORTS + 1);
        assertThrows(IllegalArgumentException.class, () -> SocketDiag.established(ports));
        assertThrows(IllegalArgumentException.class, () -> SocketDiag.established(Set.of(0)));
    }

    @Test
    void heldByCountsTheProcessSockets() throws IOException {
        ServerSocketChannel server = listen(StandardProtocolFamily.INET, V4);
        Set<Long> mine = accepted(connect(server, 4));
        Set<Long> established = SocketDiag.established(Set.of(port(server)));
        long pid = ProcessHandle.current().pid();
        assertEquals(4, SocketDiag.heldBy(pid, established));
        long one = mine.iterator().next();
        assertEquals(1, SocketDiag.heldBy(pid, Set.of(one, -1L)));
        int copy = Libc.fcntl(descriptorOf(one), 0 /* F_DUPFD */, 0);
        assertTrue(copy >= 0);
        try {
            assertEquals(1, SocketDiag.heldBy(pid, Set.of(one)), "one socket on two descriptors");
        } finally {
            Libc.close(copy);
        }
        assertEquals(0, SocketDiag.heldBy(pid, Set.of()));
        assertEquals(0, SocketDiag.heldBy(Long.MAX_VALUE, established), "no such process");
    }

    /** Bytes this thread allocates for one call, once the call is warm. */
    private static long allocated(Set<Integer> ports) throws IOException {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int i = 0; i < 50; i++) {
            SocketDiag.established(ports);
        }
        long start = threads.getCurrentThreadAllocatedBytes();
        SocketDiag.established(ports);
        return threads.getCurrentThreadAllocatedBytes() - start;
    }

    /** null: the JDK's default family (AF_INET6 where IPv6 is up). */
    private ServerSocketChannel listen(ProtocolFamily family, InetAddress address) throws IOException {
        ServerSocketChannel server = family == null ? ServerSocketChannel.open() : ServerSocketChannel.open(family);
        open.add(server);
        server.bind(new InetSocketAddress(address, 0), 64);
        return server;
    }

    private List<Connection> connect(ServerSocketChannel server, int count) throws IOException {
        InetSocketAddress to = (InetSocketAddress) server.getLocalAddress();
        List<Connection> connections = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Set<Long> before = socketInodes();
            SocketChannel client = to.getAddress() instanceof java.net.Inet6Address
                    ? SocketChannel.open(StandardProtocolFamily.INET6) : SocketChannel.open();
            open.add(client);
            client.setOption(StandardSocketOptions.SO_LINGER, 0);
            client.connect(to);
            long clientInode = appeared(before);
            open.add(server.accept());
            long acceptedInode = appeared(before);
            connections.add(new Connection(clientInode, acceptedInode, ((InetSocketAddress) client.getLocalAddress()).getPort()));
        }
        return connections;
    }

    /** The one socket inode among this process's descriptors not in before, which it joins. */
    private static long appeared(Set<Long> before) throws IOException {
        Set<Long> now = socketInodes();
        now.removeAll(before);
        assertEquals(1, now.size(), "new sockets " + now);
        before.addAll(now);
        return now.iterator().next();
    }

    private static Set<Long> socketInodes() throws IOException {
        Set<Long> inodes = new HashSet<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(Long.parseLong(target.substring(8, target.length() - 1)));
                    }
                } catch (IOException closedMeanwhile) {
                    // the directory stream's own descriptor, gone by now
                }
            }
        }
        return inodes;
    }

    private static int descriptorOf(long inode) throws IOException {
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    if (Files.readSymbolicLink(fd).toString().equals("socket:[" + inode + "]")) {
                        return Integer.parseInt(fd.getFileName().toString());
                    }
                } catch (IOException closedMeanwhile) {
                    // not the one
                }
            }
        }
        throw new AssertionError("no descriptor for socket " + inode);
    }

    /** The inodes in /proc/self/net/tcp or tcp6 (small here: only to tell the families apart). */
    private static Set<Long> table(String name) throws IOException {
        try (var lines = Files.lines(Path.of("/proc/self/net", name))) {
            return lines.skip(1).map(line -> line.trim().split("\\s+")[9]).map(Long::valueOf).collect(Collectors.toSet());
        }
    }

    private static Set<Long> accepted(List<Connection> connections) {
        return connections.stream().map(Connection::accepted).collect(Collectors.toSet());
    }

    private static int port(ServerSocketChannel server) throws IOException {
        return ((InetSocketAddress) server.getLocalAddress()).getPort();
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
