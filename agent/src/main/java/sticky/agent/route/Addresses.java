package sticky.agent.route;

import java.net.InetAddress;
import java.net.UnknownHostException;
import sticky.agent.common.IpAddresses;

/** IP address literals from untrusted text: parsed strictly, never looked up in DNS. */
final class Addresses {
    private Addresses() {}

    /** The address bytes of an IPv4 or IPv6 literal (IPv4-mapped made IPv4), or null. */
    static byte[] parse(String text) {
        if (text.isEmpty() || text.length() > 45) {
            return null;
        }
        if (text.indexOf(':') < 0) {
            return ipv4(text);
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (!(c == ':' || c == '.' || Character.digit(c, 16) >= 0)) {
                return null; // also rules out zone ids and host names: nothing here reaches DNS
            }
        }
        try {
            return IpAddresses.normalise(InetAddress.getByName(text).getAddress()); // a literal: parsed, not resolved
        } catch (UnknownHostException | RuntimeException e) {
            return null;
        }
    }

    private static byte[] ipv4(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) {
            return null;
        }
        byte[] address = new byte[4];
        for (int i = 0; i < 4; i++) {
            String p = parts[i];
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit)) {
                return null;
            }
            int v = Integer.parseInt(p);
            if (v > 255) {
                return null;
            }
            address[i] = (byte) v;
        }
        return address;
    }
}
