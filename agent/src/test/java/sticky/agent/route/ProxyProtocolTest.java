package sticky.agent.route;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ProxyProtocolTest {
    static final byte[] SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    static byte[] v1(String line) {
        return (line + "\r\nGET / HTTP/1.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** A v2 PROXY header: command 1 (PROXY) or 0 (LOCAL), family 1 (INET) or 2 (INET6), then TLVs. */
    static byte[] v2(int command, int family, byte[] source, byte[] destination, int tlvBytes) {
        int addresses = 2 * source.length + 4;
        ByteBuffer b = ByteBuffer.allocate(16 + addresses + tlvBytes + 5);
        b.put(SIGNATURE).put((byte) (0x20 | command)).put((byte) (family << 4 | 1)).putShort((short) (addresses + tlvBytes));
        b.put(source).put(destination).putShort((short) 40000).putShort((short) 443);
        b.put(new byte[tlvBytes]).put("hello".getBytes(StandardCharsets.US_ASCII));
        return b.array();
    }

    static Verdict parse(byte[] bytes) {
        return ProxyProtocol.parse(bytes, bytes.length);
    }

    @Test
    void readsTheSourceOfVersion1() {
        String line = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443";
        Verdict v4 = parse(v1(line));
        assertArrayEquals(new byte[] {(byte) 192, (byte) 168, 0, 1}, v4.client());
        assertEquals(56324, v4.port());
        assertEquals(line.length() + 2, v4.header(), "the line and its CRLF, not the request after it");
        assertArrayEquals(new byte[] {0x20, 0x01, 0x0d, (byte) 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
                parse(v1("PROXY TCP6 2001:db8::1 2001:db8::2 56324 443")).client());
        Verdict unknown = parse(v1("PROXY UNKNOWN"));
        assertEquals(Verdict.Kind.PEER, unknown.kind(), "UNKNOWN: the proxy's own connection");
        assertEquals("PROXY UNKNOWN\r\n".length(), unknown.header());
        assertEquals("PROXY UNKNOWN ffff:f...f:ffff 1 2\r\n".length(),
                parse(v1("PROXY UNKNOWN ffff:f...f:ffff 1 2")).header(), "anything may follow UNKNOWN");
        assertEquals(Verdict.MALFORMED, parse(v1("PROXY TCP4 ::1 192.168.0.11 56324 443")));
        assertEquals(Verdict.MALFORMED, parse(v1("PROXY TCP4 192.168.0.1 192.168.0.11 56324 99999")));
        assertEquals(Verdict.MALFORMED, parse(v1("PROXY TCP4 host.example 192.168.0.11 56324 443")));
        assertEquals(Verdict.MALFORMED, parse(v1("PROXY TCP5 192.168.0.1 192.168.0.11 56324 443")));
        assertEquals(Verdict.MALFORMED, parse(v1("PROXY TCP4 192.168.0.1 192.168.0.11 56324")));
        // The grammar's own rules: a destination in the family's form, no leading zeros in ports or octets.
        assertEquals(Verdict.MALFORMED, parse(v1("PROXY TCP4 192.168.0.1 banana 56324 443")));
        assertEquals(Verdict.MALFORMED, parse(v1("PROXY TCP6 2001:db8::1 192.168.0.11 56324 443")));
        assertEquals(Verdict.MALFORMED, parse(v1("PROXY TCP4 192.168.0.1 192.168.0.11 56324 00080")));
        assertEquals(Verdict.MALFORMED, parse(v1("PROXY TCP4 192.168.0.1 192.168.0.11 056324 443")));
        assertEquals(Verdict.MALFORMED, parse(v1("PROXY TCP4 192.168.0.010 192.168.0.11 56324 443")));
        assertEquals(Verdict.MALFORMED, parse(v1("PROXY TCP6 .::1 ::1 56324 443")));
        assertEquals(0, parse(v1("PROXY TCP4 192.168.0.1 192.168.0.11 0 0")).port(), "0 is a port of the grammar");
    }

    @Test
    void readsTheSourceOfVersion2() {
        byte[] v4 = {10, 1, 2, 3};
        assertArrayEquals(v4, parse(v2(1, 1, v4, new byte[4], 0)).client());
        assertArrayEquals(v4, parse(v2(1, 1, v4, new byte[4], 40)).client(), "TLVs after the addresses");
        byte[] v6 = new byte[16];
        v6[15] = 7;
        assertArrayEquals(v6, parse(v2(1, 2, v6, new byte[16], 0)).client());
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(v4, 0, mapped, 12, 4);
        assertArrayEquals(v4, parse(v2(1, 2, mapped, new byte[16], 0)).client(), "IPv4-mapped is IPv4");
        Verdict withTlvs = parse(v2(1, 1, v4, new byte[4], 40));
        assertEquals(40000, withTlvs.port());
        assertEquals(16 + 12 + 40, withTlvs.header(), "the addresses and the TLVs, not the request after them");
        Verdict local = parse(v2(0, 1, v4, new byte[4], 0));
        assertEquals(Verdict.Kind.PEER, local.kind(), "LOCAL: a health check");
        assertEquals(16 + 12, local.header());
        byte[] unspec = v2(1, 1, v4, new byte[4], 0);
        unspec[13] = 0x00;
        assertEquals(Verdict.Kind.PEER, parse(unspec).kind(), "UNSPEC: no address to believe");
        byte[] version3 = v2(1, 1, v4, new byte[4], 0);
        version3[12] = 0x31;
        assertEquals(Verdict.MALFORMED, parse(version3));
        byte[] short4 = v2(1, 1, v4, new byte[4], 0);
        short4[15] = 8;
        assertEquals(Verdict.MALFORMED, parse(short4), "a length too short for two IPv4 addresses and ports");
    }

    @Test
    void otherBytesMeanThePeer() {
        assertEquals(Verdict.PEER, parse("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(Verdict.PEER, parse(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00})); // a TLS ClientHello
        assertEquals(Verdict.MORE, ProxyProtocol.parse(new byte[0], 0));
        assertEquals(Verdict.MALFORMED, parse(("PROXY " + "x".repeat(200)).getBytes(StandardCharsets.US_ASCII)),
                "a v1 line longer than 107 bytes");
    }

    /** Every prefix of a header asks for more; the whole header answers; a byte at a time arrives there. */
    @Test
    void aHeaderArrivingInPiecesIsWaitedFor() {
        List<byte[]> headers = List.of(v1("PROXY TCP4 1.2.3.4 5.6.7.8 1 2"), v2(1, 1, new byte[] {1, 2, 3, 4}, new byte[4], 9),
                v2(1, 2, new byte[16], new byte[16], 0));
        for (byte[] header : headers) {
            int complete = -1;
            for (int n = 0; n <= header.length; n++) {
                Verdict v = ProxyProtocol.parse(header, n);
                if (v.kind() != Verdict.Kind.MORE) {
                    complete = n;
                    assertEquals(Verdict.Kind.CLIENT, v.kind());
                    break;
                }
            }
            assertNotEquals(-1, complete);
        }
    }

    /** Random bytes, and valid headers with random bytes changed, cut or grown: an answer, never an exception. */
    @Test
    void fuzz() {
        Random random = new Random(42);
        List<byte[]> seeds = List.of(v1("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443"),
                v1("PROXY TCP6 2001:db8::1 2001:db8::2 56324 443"), v2(1, 1, new byte[] {1, 2, 3, 4}, new byte[4], 20),
                v2(1, 2, new byte[16], new byte[16], 0));
        for (int i = 0; i < 200_000; i++) {
            byte[] input;
            if (i % 4 == 0) {
                input = new byte[random.nextInt(300)];
                random.nextBytes(input);
            } else {
                input = seeds.get(random.nextInt(seeds.size())).clone();
                for (int m = random.nextInt(4); m >= 0; m--) {
                    input[random.nextInt(input.length)] = (byte) random.nextInt(256);
                }
                input = Arrays.copyOf(input, random.nextInt(input.length + 50));
            }
            Verdict v = ProxyProtocol.parse(input, input.length);
            assertNotNull(v);
            if (v.kind() == Verdict.Kind.CLIENT) {
                assertEquals(true, v.client().length == 4 || v.client().length == 16);
                assertEquals(true, v.port() >= 0 && v.port() <= 65535 && v.header() >= 16, v.toString());
            }
        }
    }

    private static void assertNotEquals(int unexpected, int actual) {
        org.junit.jupiter.api.Assertions.assertNotEquals(unexpected, actual);
    }
}
