package sticky.agent.route;

import java.util.Arrays;
import sticky.agent.common.IpAddresses;

/**
 * IP address literals from untrusted text (forwarding headers, PROXY v1),
 * parsed here, strictly, and never by InetAddress.getByName: that looks up
 * anything it does not take for a literal (".::1" reaches nscd, /etc/hosts
 * and DNS). IPv4: four decimal numbers from 0 to 255, without leading zeros
 * (010 would be octal to some readers). IPv6: RFC 4291's text form, groups
 * of one to four hex digits, one "::" at most, an IPv4 tail allowed; no zone.
 * ASCII digits only.
 */
final class Addresses {
    private Addresses() {}

    /** The address bytes of an IPv4 or IPv6 literal (IPv4-mapped made IPv4), or null. */
    static byte[] parse(String text) {
        if (text.isEmpty() || text.length() > 45) {
            return null;
        }
        byte[] address = text.indexOf(':') < 0 ? ipv4(text, 0, text.length()) : ipv6(text);
        return address == null ? null : IpAddresses.normalise(address);
    }

    /** Whether text is an IPv4 literal (TCP4's form in PROXY v1). */
    static boolean isIpv4(String text) {
        return text.indexOf(':') < 0 && parse(text) != null;
    }

    private static byte[] ipv4(String s, int from, int to) {
        byte[] address = new byte[4];
        int i = from;
        for (int part = 0; part < 4; part++) {
            if (part > 0) {
                if (i >= to || s.charAt(i) != '.') {
                    return null;
                }
                i++;
            }
            int start = i;
            int value = 0;
            while (i < to && i - start < 3 && isDigit(s.charAt(i))) {
                value = value * 10 + s.charAt(i) - '0';
                i++;
            }
            if (i == start || value > 255 || i - start > 1 && s.charAt(start) == '0') {
                return null;
            }
            address[part] = (byte) value;
        }
        return i == to ? address : null;
    }

    private static byte[] ipv6(String s) {
        byte[] address = new byte[16];
        int n = s.length();
        int groups = 0;
        int gap = -1; // the group index where "::" stands
        int i = 0;
        if (s.startsWith("::")) {
            gap = 0;
            i = 2;
        } else if (s.charAt(0) == ':') {
            return null;
        }
        while (i < n) {
            int end = i;
            while (end < n && hexValue(s.charAt(end)) >= 0) {
                end++;
            }
            if (end < n && s.charAt(end) == '.') { // the IPv4 tail: the last 32 bits
                byte[] tail = groups <= 6 ? ipv4(s, i, n) : null;
                if (tail == null) {
                    return null;
                }
                System.arraycopy(tail, 0, address, 2 * groups, 4);
                groups += 2;
                break;
            }
            if (end == i || end - i > 4 || groups == 8) {
                return null;
            }
            int value = 0;
            for (int k = i; k < end; k++) {
                value = value << 4 | hexValue(s.charAt(k));
            }
            address[2 * groups] = (byte) (value >> 8);
            address[2 * groups + 1] = (byte) value;
            groups++;
            i = end;
            if (i == n) {
                break;
            }
            if (s.charAt(i) != ':' || ++i == n) {
                return null; // not a separator, or a lone ':' at the end
            }
            if (s.charAt(i) == ':') {
                if (gap >= 0) {
                    return null; // a second "::"
                }
                gap = groups;
                i++;
            }
        }
        if (gap < 0) {
            return groups == 8 ? address : null;
        }
        if (groups == 8) {
            return null; // "::" stands for one group at least
        }
        int tail = 2 * (groups - gap);
        System.arraycopy(address, 2 * gap, address, 16 - tail, tail);
        Arrays.fill(address, 2 * gap, 16 - tail, (byte) 0);
        return address;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static int hexValue(char c) {
        return isDigit(c) ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }
}
