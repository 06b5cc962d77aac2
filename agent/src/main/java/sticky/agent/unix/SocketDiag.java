package sticky.agent.unix;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.function.LongConsumer;

/**
 * The established TCP sockets on some local ports, from the kernel's socket
 * diagnostics as {@code ss} does: /proc/net/tcp and tcp6 are the machine's
 * whole table as text (75,000 lines cost the master 2 GB), where here the
 * kernel filters by state and port and sends only the sockets that match.
 *
 * <p>A NETLINK_SOCK_DIAG socket gets a SOCK_DIAG_BY_FAMILY dump request
 * (linux/sock_diag.h) for AF_INET, then AF_INET6 (which has the IPv4 clients
 * of dual-stack listeners): a struct inet_diag_req_v2 with the state mask
 * TCPF_ESTABLISHED and an INET_DIAG_REQ_BYTECODE of struct inet_diag_bc_op
 * (linux/inet_diag.h). Each reply is an nlmsghdr (linux/netlink.h) and a
 * struct inet_diag_msg, whose idiag_inode /proc/PID/fd shows as socket:[N].
 * One 32 KiB native buffer holds the request, then each reply datagram (the
 * kernel builds none larger than SKB_WITH_OVERHEAD(32768)): memory does not
 * grow with the machine's sockets. The netlink socket lives for one call, so
 * nothing is shared between threads and no failure leaves a dump half read.
 *
 * <p>Layouts, checked with offsetof against the 6.1 uapi headers, run on Linux
 * 6.18: nlmsghdr 16 bytes; inet_diag_req_v2 56 (family 0, protocol 1, states
 * 4, id 8); inet_diag_msg 72 (state 1, sport big-endian 4, inode 68). Both
 * SOCK_DIAG_BY_FAMILY and inet_diag_req_v2 date from Linux 3.3; ports are
 * compared with the original S_GE and S_LE ops, INET_DIAG_BC_S_EQ being later
 * (by 5.9; the exact release unchecked). The dump is of the caller's network
 * namespace, with every user's sockets, and needs no privilege.
 */
public final class SocketDiag {
    static {
        Native.register(SocketDiag.class, Platform.C_LIBRARY_NAME);
    }

    private SocketDiag() {}

    /** The request, 76 bytes and 20 per port, must fit in the buffer. */
    public static final int MAX_PORTS = 1000;
    private static final int BUFFER = 32768;
    private static final int AF_NETLINK = 16;
    private static final int SOCK_RAW = 3;
    private static final int NETLINK_SOCK_DIAG = 4;
    private static final short SOCK_DIAG_BY_FAMILY = 20;
    private static final short NLM_F_REQUEST_DUMP = 0x1 | 0x300;
    private static final int NLMSG_ERROR = 2;
    private static final int NLMSG_DONE = 3;
    private static final int MSG_TRUNC = 0x20;
    private static final short INET_DIAG_REQ_BYTECODE = 1;
    private static final byte BC_JMP = 1;
    private static final byte BC_S_GE = 2;
    private static final byte BC_S_LE = 3;
    private static final int HEADER = 16;
    private static final int REQUEST = HEADER + 56 + 4; // nlmsghdr, inet_diag_req_v2, nlattr

    private static native long send(int fd, Pointer buf, long len, int flags);
    private static native long recv(int fd, Pointer buf, long len, int flags);

    /** The inodes of the established TCP sockets (IPv4 and IPv6) whose local port is one of localPorts. */
    public static Set<Long> established(Set<Integer> localPorts) throws IOException {
        Set<Long> inodes = new HashSet<>();
        established(localPorts, inodes::add);
        return inodes;
    }

    /** As {@link #established(Set)}, each inode given to sink as it is read. */
    public static void established(Set<Integer> localPorts, LongConsumer sink) throws IOException {
        if (localPorts.size() > MAX_PORTS || localPorts.stream().anyMatch(port -> port < 1 || port > 65535)) {
            throw new IllegalArgumentException("more than " + MAX_PORTS + " ports, or no port: " + localPorts);
        }
        if (localPorts.isEmpty()) {
            return;
        }
        int fd = UnixSocket.check(Libc.socket(AF_NETLINK, SOCK_RAW | Libc.SOCK_CLOEXEC, NETLINK_SOCK_DIAG),
                "socket(NETLINK_SOCK_DIAG)");
        try (Memory buffer = new Memory(BUFFER)) {
            UnixSocket.receiveTimeout(fd, 10_000); // a status request must not hang on a kernel that never answers
            dump(fd, buffer, Libc.AF_INET, localPorts, sink);
            dump(fd, buffer, Libc.AF_INET6, localPorts, sink);
        } finally {
            Libc.close(fd);
        }
    }

    private static void dump(int fd, Memory buffer, int family, Set<Integer> ports, LongConsumer sink)
            throws IOException {
        int length = REQUEST + bytecode(buffer, REQUEST, ports);
        buffer.setInt(0, length);
        buffer.setShort(4, SOCK_DIAG_BY_FAMILY);
        buffer.setShort(6, NLM_F_REQUEST_DUMP);
        buffer.setLong(8, 0); // seq, port id: unneeded, one request at a time
        buffer.setMemory(HEADER, 56, (byte) 0); // an id of zeros matches any address, port, interface
        buffer.setByte(HEADER, (byte) family);
        buffer.setByte(HEADER + 1, (byte) Libc.IPPROTO_TCP);
        buffer.setInt(HEADER + 4, 1 << TcpInfo.ESTABLISHED);
        buffer.setShort(REQUEST - 4, (short) (length - REQUEST + 4));
        buffer.setShort(REQUEST - 2, INET_DIAG_REQ_BYTECODE);
        while (send(fd, buffer, length, 0) < 0) { // without an address, netlink sends to the kernel
            if (Libc.errno() != Libc.EINTR) {
                throw UnixSocket.error("send(SOCK_DIAG_BY_FAMILY)");
            }
        }
        while (true) {
            long n = recv(fd, buffer, BUFFER, MSG_TRUNC); // MSG_TRUNC: returns the datagram's whole length
            if (n < 0 && Libc.errno() != Libc.EINTR) { // after EINTR, n < 0 skips the loop below: recv again
                throw UnixSocket.error("recv(NETLINK_SOCK_DIAG)");
            }
            if (n > BUFFER) {
                throw new IOException("sock_diag: a reply of " + n + " bytes, more than " + BUFFER);
            }
            for (int at = 0; at + HEADER <= n; ) {
                int size = buffer.getInt(at);
                int type = buffer.getShort(at + 4) & 0xffff;
                if (size < HEADER || at + size > n) {
                    throw new IOException("sock_diag: malformed reply");
                }
                if (type == NLMSG_DONE || type == NLMSG_ERROR) {
                    // both start with an int: 0, or the dump's (DONE) or the request's (ERROR) -errno
                    int errno = size >= HEADER + 4 ? -buffer.getInt(at + HEADER) : 0;
                    if (errno > 0) {
                        throw new IOException("sock_diag: " + Libc.strerror(errno) + " (errno " + errno + ")");
                    }
                    if (type == NLMSG_DONE) {
                        return;
                    }
                } else if (type == SOCK_DIAG_BY_FAMILY && size >= HEADER + 72) {
                    int port = (buffer.getByte(at + HEADER + 4) & 0xff) << 8 | buffer.getByte(at + HEADER + 5) & 0xff;
                    // checked again so that a kernel (or sandbox) ignoring the filter cannot inflate the counts
                    if (buffer.getByte(at + HEADER + 1) == TcpInfo.ESTABLISHED && ports.contains(port)) {
                        sink.accept(buffer.getInt(at + HEADER + 68) & 0xffffffffL);
                    }
                }
                at += (size + 3) & ~3; // NLMSG_ALIGN
            }
        }
    }

    /**
     * Writes "the local port is one of ports" at offset; returns its length.
     * Each op jumps by yes if it holds, by no if not; landing on the end
     * accepts, past it rejects. The kernel's audit walks the yes jumps only,
     * so a match cannot jump to the end at once: each port is [GE p][LE p][JMP
     * to the end], a failed comparison going to the next port (or past the end).
     */
    private static int bytecode(Memory buffer, int offset, Set<Integer> ports) {
        int length = 20 * ports.size() - 4;
        int at = 0;
        for (int port : ports) {
            op(buffer, offset + at, BC_S_GE, 8, 20);
            op(buffer, offset + at + 4, (byte) 0, 0, port); // a comparison's argument is the next op's no
            op(buffer, offset + at + 8, BC_S_LE, 8, 12);
            op(buffer, offset + at + 12, (byte) 0, 0, port);
            if (at + 16 < length) {
                op(buffer, offset + at + 16, BC_JMP, 4, length - at - 16);
            }
            at += 20;
        }
        return length;
    }

    /** struct inet_diag_bc_op { u8 code; u8 yes; u16 no; }, host byte order. */
    private static void op(Memory buffer, int at, byte code, int yes, int no) {
        buffer.setByte(at, code);
        buffer.setByte(at + 1, (byte) yes);
        buffer.setShort(at + 2, (short) no);
    }

    /**
     * How many of inodes the process holds (readlink /proc/PID/fd/N is socket:[INODE]), each
     * once however many descriptors it is on; 0 if the process is gone or not ours to read.
     */
    public static int heldBy(long pid, Set<Long> inodes) {
        Set<Long> held = new HashSet<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : fds) {
                try {
                    String to = Files.readSymbolicLink(fd).toString();
                    Long inode = to.startsWith("socket:[") ? Long.valueOf(to.substring(8, to.length() - 1)) : null;
                    if (inode != null && inodes.contains(inode)) {
                        held.add(inode);
                    }
                } catch (IOException | NumberFormatException closedMeanwhile) {
                    // the descriptor went away while listing
                }
            }
        } catch (IOException gone) {
            // no such process, or not ours
        }
        return held.size();
    }
}
