package sticky.agent.unix;

import com.sun.jna.Pointer;

/** Reads the peer address out of a native sockaddr_in or sockaddr_in6, as accept4 fills it. */
public final class Sockaddr {
    private Sockaddr() {}

    public static final int MAX_SIZE = 128; // sizeof(struct sockaddr_storage)

    /**
     * The address bytes: 4 for IPv4 and for IPv4-mapped IPv6 ({@code ::ffff:a.b.c.d}),
     * 16 for other IPv6; null for another family.
     */
    public static byte[] address(Pointer sa) {
        int family = sa.getShort(0);
        if (family == Libc.AF_INET) {
            return sa.getByteArray(4, 4);
        }
        if (family == Libc.AF_INET6) {
            return normalise(sa.getByteArray(8, 16));
        }
        return null;
    }

    /** sin_port / sin6_port, in network byte order at the same offset in both. */
    public static int port(Pointer sa) {
        return ((sa.getByte(2) & 0xff) << 8) | (sa.getByte(3) & 0xff);
    }

    /** An IPv4-mapped IPv6 address ({@code ::ffff:a.b.c.d}) as its 4 IPv4 bytes; any other as it is. */
    public static byte[] normalise(byte[] address) {
        return isIpv4Mapped(address) ? java.util.Arrays.copyOfRange(address, 12, 16) : address;
    }

    public static boolean isIpv4Mapped(byte[] a) {
        if (a.length != 16) {
            return false;
        }
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
    }
}
