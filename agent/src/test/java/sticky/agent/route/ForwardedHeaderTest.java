package sticky.agent.route;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ForwardedHeaderTest {
    static final Trust PROXIES = Trust.parse("10.0.0.0/8;::1");
    static final ForwardedHeader XFF = new ForwardedHeader("X-Forwarded-For", PROXIES);

    static byte[] request(String... headers) {
        return ("GET /path HTTP/1.1\r\nHost: example\r\n" + String.join("\r\n", headers) + (headers.length > 0 ? "\r\n" : "")
                + "\r\nbody").getBytes(StandardCharsets.ISO_8859_1);
    }

    static Verdict parse(ForwardedHeader header, byte[] bytes) {
        return header.parse(bytes, bytes.length);
    }

    static byte[] ip(String literal) {
        return Addresses.parse(literal);
    }

    @Test
    void theClientIsTheRightMostUntrustedAddress() {
        assertArrayEquals(ip("203.0.113.7"), parse(XFF, request("X-Forwarded-For: 203.0.113.7")).client());
        // The client wrote the left-most entry itself: the right-most untrusted one is what our proxies saw.
        assertArrayEquals(ip("203.0.113.7"),
                parse(XFF, request("X-Forwarded-For: 6.6.6.6, 203.0.113.7, 10.0.0.2")).client());
        assertArrayEquals(ip("203.0.113.7"),
                parse(XFF, request("x-forwarded-for: 6.6.6.6", "X-FORWARDED-FOR: 203.0.113.7:5555, 10.1.1.1")).client(),
                "header lines are combined, names compared without case, ports dropped");
        assertArrayEquals(ip("10.0.0.9"), parse(XFF, request("X-Forwarded-For: 10.0.0.9, 10.0.0.2")).client(),
                "all trusted: the left-most");
        assertArrayEquals(ip("2001:db8::5"), parse(XFF, request("X-Forwarded-For: [2001:db8::5]:80, ::1")).client());
    }

    @Test
    void theNameIsTheExactTokenBeforeTheColon() {
        assertArrayEquals(ip("203.0.113.7"), parse(XFF, request("X-Forwarded-For:203.0.113.7")).client());
        // RFC 9112 section 5.1: no whitespace between name and colon (servers answer 400), and a
        // line that starts with whitespace continues the line above (obs-fold): neither is the header.
        assertEquals(Verdict.PEER, parse(XFF, request("X-Forwarded-For :203.0.113.7")));
        assertEquals(Verdict.PEER, parse(XFF, request("User-Agent: a", " X-Forwarded-For: 203.0.113.7")));
    }

    @Test
    void forwardedAndOtherHeaders() {
        ForwardedHeader forwarded = new ForwardedHeader("Forwarded", PROXIES);
        assertArrayEquals(ip("192.0.2.60"),
                parse(forwarded, request("Forwarded: for=192.0.2.60;proto=http;by=203.0.113.43")).client());
        assertArrayEquals(ip("2001:db8:cafe::17"),
                parse(forwarded, request("Forwarded: for=\"[2001:db8:cafe::17]:4711\", for=10.0.0.3")).client());
        assertEquals(Verdict.PEER, parse(forwarded, request("Forwarded: for=unknown")));
        ForwardedHeader realIp = new ForwardedHeader("X-Real-IP", PROXIES);
        assertArrayEquals(ip("198.51.100.1"), parse(realIp, request("X-Real-IP: 198.51.100.1")).client());
    }

    @Test
    void withoutAReadableHeaderThePeerIsUsed() {
        assertEquals(Verdict.PEER, parse(XFF, request()));
        assertEquals(Verdict.PEER, parse(XFF, request("X-Forwarded-For: 203.0.113.7, nonsense")));
        assertEquals(Verdict.PEER, parse(XFF, request("X-Forwarded-For: evil.example")));
        assertEquals(Verdict.PEER, parse(XFF, new byte[] {0x16, 0x03, 0x01, 0x00, 0x10}), "TLS");
        assertEquals(Verdict.PEER, parse(XFF, "NOT-HTTP\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
        byte[] huge = ("GET / HTTP/1.1\r\nX-Junk: " + "a".repeat(ForwardedHeader.MAX_HEAD)).getBytes(StandardCharsets.US_ASCII);
        assertEquals(Verdict.PEER, parse(XFF, huge), "a head too long to wait for");
        assertEquals(Verdict.MORE, XFF.parse(new byte[0], 0));
    }

    @Test
    void aHeadArrivingAByteAtATimeIsWaitedFor() {
        byte[] request = request("X-Forwarded-For: 203.0.113.7");
        int end = new String(request, StandardCharsets.ISO_8859_1).indexOf("\r\n\r\n") + 4;
        for (int n = 0; n < end; n++) {
            assertEquals(Verdict.MORE, XFF.parse(request, n), "after " + n + " bytes");
        }
        assertArrayEquals(ip("203.0.113.7"), XFF.parse(request, end).client());
    }

    @Test
    void fuzz() {
        Random random = new Random(11);
        byte[] seed = request("X-Forwarded-For: 6.6.6.6, [2001:db8::1]:9, 10.0.0.2", "Forwarded: for=\"[::1]\"");
        ForwardedHeader forwarded = new ForwardedHeader("Forwarded", PROXIES);
        String alphabet = " ,:;[]\"=.0123456789abcdefX\r\n";
        for (int i = 0; i < 100_000; i++) {
            byte[] input;
            if (i % 3 == 0) {
                input = new byte[random.nextInt(400)];
                random.nextBytes(input);
                if (input.length > 0) {
                    input[0] = (byte) ('A' + random.nextInt(26));
                }
            } else {
                input = seed.clone();
                for (int m = random.nextInt(6); m >= 0; m--) {
                    input[random.nextInt(input.length)] = (byte) alphabet.charAt(random.nextInt(alphabet.length()));
                }
                input = Arrays.copyOf(input, random.nextInt(input.length + 20));
            }
            assertNotNull(XFF.parse(input, input.length));
            assertNotNull(forwarded.parse(input, input.length));
        }
    }

    @Test
    void trustMatchesBlocks() {
        Trust trust = Trust.parse("192.168.0.0/16; 10.1.2.3 ;2001:db8::/32");
        assertEquals(true, trust.contains(ip("192.168.44.1")));
        assertEquals(false, trust.contains(ip("192.169.0.1")));
        assertEquals(true, trust.contains(ip("10.1.2.3")));
        assertEquals(false, trust.contains(ip("10.1.2.4")));
        assertEquals(true, trust.contains(ip("2001:db8:ffff::1")));
        assertEquals(false, trust.contains(ip("2001:db9::1")));
        assertEquals(true, trust.contains(ip("::ffff:192.168.1.1")), "IPv4-mapped is IPv4");
        assertEquals(true, Trust.parse("10.0.0.0/9").contains(ip("10.127.0.1")));
        assertEquals(false, Trust.parse("10.0.0.0/9").contains(ip("10.128.0.1")));
    }
}
