package sticky.agent.common;

import java.net.InetSocketAddress;
import java.util.Arrays;

/**
 * IPv4-mapped IPv6 addresses ({@code ::ffff:a.b.c.d}) are one client with their IPv4 address: one rule for all.
 * And how an address is written for people.
 */
public final class IpAddresses {
    private IpAddresses() {}

    /** host:port, an IPv6 host in brackets, as status and logs show an address. */
    public static String hostPort(InetSocketAddress address) {
        String host = address.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    /** An IPv4-mapped IPv6 address as its 4 IPv4 bytes; any other as it is. */
    public static byte[] normalise(byte[] address) {
        return isIpv4Mapped(address, address.length) ? Arrays.copyOfRange(address, 12, 16) : address;
    }

    /** Whether the first length bytes of a are an IPv4-mapped IPv6 address. */
    public static boolean isIpv4Mapped(byte[] a, int length) {
        if (length != 16) {
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
