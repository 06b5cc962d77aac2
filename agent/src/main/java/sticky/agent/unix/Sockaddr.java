package sticky.agent.unix;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.net.InetSocketAddress;
import sticky.agent.common.IpAddresses;

/** Reads the peer address out of a native sockaddr_in or sockaddr_in6, as accept4 fills it. */
public final class Sockaddr {
    private Sockaddr() {}

    public static final int MAX_SIZE = 128; // sizeof(struct sockaddr_storage)

    /**
     * Copies the address bytes into into (16 bytes at least), without
     * allocating: the master does this once per connection. Returns their
     * count: 4 for IPv4 and for IPv4-mapped IPv6 ({@code ::ffff:a.b.c.d}), 16
     * for other IPv6; 0 for another family.
     */
    public static int address(Pointer sa, byte[] into) {
        int family = sa.getShort(0);
        if (family == Libc.AF_INET) {
            sa.read(4, into, 0, 4);
            return 4;
        }
        if (family == Libc.AF_INET6) {
            sa.read(8, into, 0, 16);
            if (IpAddresses.isIpv4Mapped(into, 16)) {
                System.arraycopy(into, 12, into, 0, 4);
                return 4;
            }
            return 16;
        }
        return 0;
    }

    /** sin6_scope_id (host byte order) of a sockaddr_in6. */
    public static int scopeId(Pointer sa) {
        return sa.getInt(24);
    }

    /** The local port of socket fd (getsockname), or -1. */
    public static int localPort(int fd) {
        try (Memory sa = new Memory(MAX_SIZE); Memory length = new Memory(4)) {
            length.setInt(0, MAX_SIZE);
            return Libc.getsockname(fd, sa, length) < 0 ? -1 : port(sa);
        }
    }

    /** The local address of socket fd (getsockname), as bound: an IPv6 address stays IPv6; null if not IP. */
    public static InetSocketAddress local(int fd) {
        try (Memory sa = new Memory(MAX_SIZE); Memory length = new Memory(4)) {
            length.setInt(0, MAX_SIZE);
            if (Libc.getsockname(fd, sa, length) < 0) {
                return null;
            }
            int family = sa.getShort(0);
            byte[] address = sa.getByteArray(family == Libc.AF_INET ? 4 : 8, family == Libc.AF_INET ? 4 : 16);
            if (family != Libc.AF_INET && family != Libc.AF_INET6) {
                return null;
            }
            return new InetSocketAddress(java.net.InetAddress.getByAddress(address), port(sa));
        } catch (java.net.UnknownHostException impossible) {
            return null;
        }
    }

    /** sin_port / sin6_port, in network byte order at the same offset in both. */
    public static int port(Pointer sa) {
        return ((sa.getByte(2) & 0xff) << 8) | (sa.getByte(3) & 0xff);
    }
}
