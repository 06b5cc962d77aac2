package sticky.agent.route;

import java.nio.charset.StandardCharsets;
import sticky.agent.common.IpAddresses;

/**
 * Reads the client address and port from a PROXY protocol header (v1 text or
 * v2 binary, as HAProxy's send-proxy / send-proxy-v2, nginx's proxy_protocol
 * and AWS NLBs send it) at the start of a connection's bytes, and how long
 * the header is. Never throws. Bytes that do not start as a header mean "use
 * the TCP peer", and so does a header that names no client over IP (LOCAL, a
 * balancer's health check; UNKNOWN; UNSPEC or UNIX addresses); one that
 * starts as a header and then breaks its grammar is MALFORMED.
 * See https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt.
 */
public final class ProxyProtocol {
    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final byte[] V1_PREFIX = "PROXY ".getBytes(StandardCharsets.US_ASCII);
    /** The longest v1 line, CRLF included. */
    static final int V1_MAX = 107;

    private ProxyProtocol() {}

    public static Verdict parse(byte[] bytes, int length) {
        if (length <= 0) {
            return Verdict.MORE;
        }
        if (startsWith(bytes, length, V2_SIGNATURE)) {
            return length < V2_SIGNATURE.length ? Verdict.MORE : v2(bytes, length);
        }
        if (startsWith(bytes, length, V1_PREFIX)) {
            return length < V1_PREFIX.length ? Verdict.MORE : v1(bytes, length);
        }
        return Verdict.PEER;
    }

    /** Whether the first length bytes agree with prefix, as far as both go. */
    private static boolean startsWith(byte[] bytes, int length, byte[] prefix) {
        for (int i = 0; i < Math.min(length, prefix.length); i++) {
            if (bytes[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static Verdict v1(byte[] bytes, int length) {
        int end = -1;
        for (int i = 0; i + 1 < Math.min(length, V1_MAX); i++) {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n') {
                end = i;
                break;
            }
        }
        if (end < 0) {
            return length < V1_MAX ? Verdict.MORE : Verdict.MALFORMED;
        }
        // PROXY TCP4|TCP6 source destination sourcePort destinationPort, or PROXY UNKNOWN [anything]
        String[] f = new String(bytes, 0, end, StandardCharsets.US_ASCII).split(" ", -1);
        if (f[1].equals("UNKNOWN")) {
            return Verdict.local(end + 2);
        }
        if (f.length != 6 || !(f[1].equals("TCP4") || f[1].equals("TCP6")) || !port(f[4]) || !port(f[5])) {
            return Verdict.MALFORMED;
        }
        // Both addresses in their family's form (TCP4 with an IPv6 address, or the other way round, is malformed).
        boolean ipv6 = f[1].equals("TCP6");
        byte[] source = Addresses.parse(f[2]);
        if (source == null || Addresses.parse(f[3]) == null || ipv6 != f[2].contains(":") || ipv6 != f[3].contains(":")) {
            return Verdict.MALFORMED;
        }
        return Verdict.proxied(source, Integer.parseInt(f[4]), end + 2);
    }

    /** A port as the v1 grammar writes it: decimal, 0 to 65535, no leading zero. */
    private static boolean port(String text) {
        return text.matches("0|[1-9][0-9]{0,4}") && Integer.parseInt(text) <= 65535;
    }

    private static Verdict v2(byte[] bytes, int length) {
        if (length < 16) {
            return Verdict.MORE;
        }
        int version = (bytes[12] & 0xf0) >> 4;
        int command = bytes[12] & 0x0f;
        int family = (bytes[13] & 0xf0) >> 4;
        int header = 16 + (((bytes[14] & 0xff) << 8) | (bytes[15] & 0xff));
        if (version != 2 || command > 1 || family > 3) {
            return Verdict.MALFORMED;
        }
        int addressBytes = family == 1 ? 4 : family == 2 ? 16 : 0;
        if (command == 0 || addressBytes == 0) {
            return Verdict.local(header); // LOCAL: the proxy's own connection; UNSPEC or UNIX: no IP client
        }
        int addresses = 16 + 2 * addressBytes + 4; // source, destination, source port, destination port
        if (header < addresses) {
            return Verdict.MALFORMED; // a length too short for the addresses
        }
        if (length < addresses) {
            return Verdict.MORE;
        }
        int portAt = 16 + 2 * addressBytes;
        int port = ((bytes[portAt] & 0xff) << 8) | (bytes[portAt + 1] & 0xff);
        return Verdict.proxied(IpAddresses.normalise(java.util.Arrays.copyOfRange(bytes, 16, 16 + addressBytes)), port,
                header);
    }
}
