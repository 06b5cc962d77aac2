package sticky.agent.route;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads the client address from an HTTP request header set by proxies
 * (X-Forwarded-For, X-Real-IP, Forwarded, or another one named by the user) in
 * the request head at the start of a connection's bytes. Of the addresses the
 * header lists, the client is the right-most one that is not a trusted proxy:
 * everything left of it may have been written by the client itself. Never
 * throws; anything that is not a readable HTTP/1 request head within
 * {@link #MAX_HEAD} bytes (TLS, for one) means "use the TCP peer".
 */
public final class ForwardedHeader {
    public static final int MAX_HEAD = 8192;

    private final String name;
    private final Trust trust;

    public ForwardedHeader(String name, Trust trust) {
        this.name = name.toLowerCase(Locale.ROOT);
        this.trust = trust;
    }

    public Verdict parse(byte[] bytes, int length) {
        if (length <= 0) {
            return Verdict.MORE;
        }
        if (bytes[0] < 'A' || bytes[0] > 'Z') {
            return Verdict.PEER; // not a request line: TLS, PROXY v2, garbage
        }
        int end = headEnd(bytes, Math.min(length, MAX_HEAD));
        if (end < 0) {
            return length >= MAX_HEAD ? Verdict.PEER : Verdict.MORE;
        }
        String head = new String(bytes, 0, end, StandardCharsets.ISO_8859_1);
        String[] lines = head.split("\r\n");
        if (!lines[0].matches("[A-Z]+ \\S+ HTTP/1\\.[01]")) {
            return Verdict.PEER;
        }
        List<String> entries = new ArrayList<>();
        for (int i = 1; i < lines.length; i++) {
            // The name is the exact token before the colon: RFC 9112 section 5.1 lets no
            // whitespace in, and a line that starts with whitespace continues the one above.
            int colon = lines[i].indexOf(':');
            if (colon > 0 && lines[i].substring(0, colon).toLowerCase(Locale.ROOT).equals(name)) {
                for (String entry : lines[i].substring(colon + 1).split(",")) {
                    entries.add(entry.strip());
                }
            }
        }
        return Verdict.client(choose(entries));
    }

    /** Where the first length bytes' request head ends (its blank line begins), or -1. */
    static int headEnd(byte[] b, int length) {
        for (int i = 0; i + 3 < length; i++) {
            if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n') {
                return i;
            }
        }
        return -1;
    }

    /** Right to left: the first address that is not a trusted proxy; the left-most if all are. */
    private byte[] choose(List<String> entries) {
        byte[] leftMost = null;
        for (int i = entries.size() - 1; i >= 0; i--) {
            byte[] address = address(entries.get(i));
            if (address == null) {
                return null; // unreadable where a proxy would have written: believe none of it
            }
            if (!trust.contains(address)) {
                return address;
            }
            leftMost = address;
        }
        return leftMost;
    }

    /** One entry: "1.2.3.4", "1.2.3.4:5678", "[::1]:80", "::1", or for Forwarded: for=...;proto=... */
    private byte[] address(String entry) {
        String value = entry;
        if (name.equals("forwarded")) {
            value = null;
            for (String pair : entry.split(";")) {
                int eq = pair.indexOf('=');
                if (eq > 0 && pair.substring(0, eq).strip().equalsIgnoreCase("for")) {
                    value = pair.substring(eq + 1).strip();
                }
            }
            if (value == null) {
                return null;
            }
            if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
                value = value.substring(1, value.length() - 1);
            }
        }
        if (value.startsWith("[")) {
            int close = value.indexOf(']');
            return close < 0 ? null : Addresses.parse(value.substring(1, close));
        }
        int colon = value.indexOf(':');
        if (colon > 0 && value.indexOf(':', colon + 1) < 0) {
            value = value.substring(0, colon); // IPv4 with a port
        }
        return Addresses.parse(value);
    }
}
