package sticky.agent.route;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import sticky.agent.common.IpAddresses;

/**
 * The forwarding headers (X-Forwarded-For, Forwarded, a single-address
 * header) against any bytes and against chains of proxies (Jazzer; every
 * build replays the kept inputs in ForwardedHeaderFuzzTestInputs). What must
 * hold: it never throws; a client it names is written in the request; it is
 * decided at the head's end, whatever follows; of a chain it names the
 * right-most address that is not a trusted proxy.
 */
class ForwardedHeaderFuzzTest {
    /** Trusted: 10.0.0.0/8 and fd00::/8, which {@link #trusted} says without Trust's help. */
    private static final Trust TRUST = Trust.parse("10.0.0.0/8;fd00::/8");
    private static final List<String> NAMES = List.of("X-Forwarded-For", "Forwarded", "X-Real-IP");

    @FuzzTest
    void anyBytes(byte[] data) {
        for (String name : NAMES) {
            ForwardedHeader header = new ForwardedHeader(name, TRUST);
            Verdict verdict = header.parse(data, data.length);
            FuzzChecks.sane(verdict);
            assertEquals(0, verdict.header(), "a request header is never stripped");
            assertNotEquals(Verdict.Kind.MALFORMED, verdict.kind(), "a bad header routes by the peer");
            if (verdict.kind() == Verdict.Kind.MORE) {
                assertTrue(data.length < ForwardedHeader.MAX_HEAD, "waits for more than " + ForwardedHeader.MAX_HEAD);
            }
            if (verdict.kind() == Verdict.Kind.CLIENT) {
                assertTrue(FuzzChecks.isWrittenIn(data, verdict.client()), "a client that is not in the request");
            }
            int end = ForwardedHeader.headEnd(data, data.length) + 4; // the head with its blank line
            if (verdict.kind() != Verdict.Kind.MORE && end >= 4 && end <= ForwardedHeader.MAX_HEAD) {
                FuzzChecks.assertSameVerdict(verdict, header.parse(data, end), "decided at the head's end");
            }
        }
    }

    /** Proxies appending their peers, in every notation: the client is the right-most untrusted one. */
    @FuzzTest
    void chainOfProxies(FuzzedDataProvider data) throws Exception {
        boolean forwarded = data.consumeBoolean();
        boolean linePerProxy = data.consumeBoolean();
        int count = data.consumeInt(1, 6);
        List<byte[]> chain = new ArrayList<>();
        List<String> entries = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] address = data.consumeBytes(data.consumeBoolean() ? 16 : 4);
            if (address.length != 4 && address.length != 16) {
                return;
            }
            if (data.consumeBoolean()) {
                address[0] = (byte) (address.length == 4 ? 10 : 0xfd); // a trusted proxy
            }
            chain.add(IpAddresses.normalise(address));
            entries.add(entry(address, forwarded, data.consumeInt(0, 3), data.consumeInt(1, 65535)));
        }
        String name = forwarded ? "Forwarded" : "X-Forwarded-For";
        StringBuilder request = new StringBuilder("GET /").append(data.consumeAsciiString(20).replaceAll("[\\s\\x00-\\x1f]", ""))
                .append(" HTTP/1.1\r\nHost: app\r\n");
        if (linePerProxy) {
            entries.forEach(e -> request.append(name).append(": ").append(e).append("\r\n"));
        } else {
            request.append(name).append(":").append(String.join(" ,", entries)).append("\r\n");
        }
        byte[] bytes = request.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);

        byte[] expected = chain.get(0);
        for (int i = chain.size() - 1; i >= 0; i--) {
            if (!trusted(chain.get(i))) {
                expected = chain.get(i);
                break;
            }
        }
        Verdict verdict = new ForwardedHeader(name, TRUST).parse(bytes, bytes.length);
        assertEquals(Verdict.Kind.CLIENT, verdict.kind(), () -> new String(bytes, StandardCharsets.ISO_8859_1));
        assertArrayEquals(expected, verdict.client(), () -> new String(bytes, StandardCharsets.ISO_8859_1));
    }

    /** One proxy's entry: bare, with a port, in brackets; for Forwarded as for=..., quoted, with more pairs. */
    private static String entry(byte[] address, boolean forwarded, int style, int port) throws Exception {
        String host = InetAddress.getByAddress(address).getHostAddress();
        boolean ipv6 = host.contains(":");
        String written = switch (style) {
            case 0 -> host;
            case 1 -> ipv6 ? "[" + host + "]" : host;
            default -> (ipv6 ? "[" + host + "]" : host) + ":" + port;
        };
        if (!forwarded) {
            return written;
        }
        boolean quoted = style >= 2 || ipv6;
        String pair = "for=" + (quoted ? "\"" + written + "\"" : written);
        return style == 3 ? "proto=https;" + pair + ";by=_gateway" : pair;
    }

    private static boolean trusted(byte[] address) {
        return address[0] == (byte) (address.length == 4 ? 10 : 0xfd);
    }
}
