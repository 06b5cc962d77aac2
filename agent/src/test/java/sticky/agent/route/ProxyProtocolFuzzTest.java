package sticky.agent.route;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import sticky.agent.common.IpAddresses;

/**
 * The PROXY parser against any bytes (Jazzer; every build replays the kept
 * inputs in ProxyProtocolFuzzTestInputs, scripts/fuzz looks for new ones).
 * What must hold: it never throws; a client it names is in the bytes; once it
 * has decided, more bytes do not change its mind; a header it writes itself
 * reads back as written; stripping the header it measures leaves exactly the
 * stream that followed it.
 */
class ProxyProtocolFuzzTest {
    @FuzzTest
    void anyBytes(byte[] data) throws Exception {
        Verdict verdict = ProxyProtocol.parse(data, data.length);
        assertNotNull(verdict.kind());
        FuzzChecks.sane(verdict);
        if (verdict.kind() == Verdict.Kind.CLIENT) {
            assertTrue(addressIsInTheHeader(data, verdict.client()), "a client that is not in the header");
        }
        if (verdict.header() > 0 && data[0] == 'P') { // v1: the header is the line, CRLF included
            assertTrue(verdict.header() <= ProxyProtocol.V1_MAX);
            assertEquals('\r', data[verdict.header() - 2]);
            assertEquals('\n', data[verdict.header() - 1]);
        }
        // Decided on a prefix: the same on every longer one (a header is decided within 256 bytes).
        for (int length = 0; length < Math.min(data.length, 256); length++) {
            Verdict early = ProxyProtocol.parse(data, length);
            if (early.kind() != Verdict.Kind.MORE) {
                FuzzChecks.assertSameVerdict(early, verdict, "decided on " + length + " bytes of " + data.length);
                break;
            }
        }
    }

    /** A header as HAProxy writes it, then any stream: read back as written, and its length exactly. */
    @FuzzTest
    void headerThenStream(FuzzedDataProvider data) throws Exception {
        boolean v2 = data.consumeBoolean();
        boolean ipv6 = data.consumeBoolean();
        byte[] source = data.consumeBytes(ipv6 ? 16 : 4);
        byte[] destination = data.consumeBytes(ipv6 ? 16 : 4);
        if (source.length != (ipv6 ? 16 : 4) || destination.length != source.length) {
            return;
        }
        int sourcePort = data.consumeInt(0, 65535);
        int destinationPort = data.consumeInt(0, 65535);
        byte[] tlvs = v2 ? data.consumeBytes(data.consumeInt(0, 600)) : new byte[0];
        byte[] stream = data.consumeRemainingAsBytes();
        byte[] header = v2 ? v2(source, destination, sourcePort, destinationPort, tlvs)
                : v1(source, destination, sourcePort, destinationPort);
        byte[] bytes = concat(header, stream);

        Verdict verdict = ProxyProtocol.parse(bytes, bytes.length);
        assertEquals(Verdict.Kind.CLIENT, verdict.kind(), () -> new String(header, StandardCharsets.ISO_8859_1));
        assertArrayEquals(IpAddresses.normalise(source), verdict.client());
        assertEquals(sourcePort, verdict.port());
        assertEquals(header.length, verdict.header());
        assertArrayEquals(stream, Arrays.copyOfRange(bytes, verdict.header(), bytes.length), "the stream after the header");
    }

    private static byte[] v1(byte[] source, byte[] destination, int sourcePort, int destinationPort) throws Exception {
        String family = source.length == 4 ? "TCP4" : "TCP6";
        return ("PROXY " + family + " " + text(source) + " " + text(destination) + " " + sourcePort + " "
                + destinationPort + "\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** getHostAddress writes an IPv4-mapped IPv6 address as IPv4: TCP6 must say it in IPv6's form. */
    private static String text(byte[] address) throws Exception {
        InetAddress a = InetAddress.getByAddress(address);
        String text = a.getHostAddress();
        return address.length == 16 && !text.contains(":") ? "::ffff:" + text : text;
    }

    private static byte[] v2(byte[] source, byte[] destination, int sourcePort, int destinationPort, byte[] tlvs) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A});
        out.write(0x21); // version 2, PROXY
        out.write(source.length == 4 ? 0x11 : 0x21); // TCP over IPv4 / IPv6
        int length = 2 * source.length + 4 + tlvs.length;
        out.write(length >> 8);
        out.write(length);
        out.writeBytes(source);
        out.writeBytes(destination);
        out.write(sourcePort >> 8);
        out.write(sourcePort);
        out.write(destinationPort >> 8);
        out.write(destinationPort);
        out.writeBytes(tlvs);
        return out.toByteArray();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    /** v2: the source address bytes at offset 16; v1: the source field of the line. */
    private static boolean addressIsInTheHeader(byte[] data, byte[] client) {
        if (data[0] == 0x0D) {
            return Arrays.equals(IpAddresses.normalise(Arrays.copyOfRange(data, 16, 16 + (data[13] >> 4 == 1 ? 4 : 16))),
                    client);
        }
        String[] fields = new String(data, StandardCharsets.ISO_8859_1).split("\r\n", 2)[0].split(" ");
        return fields.length > 2 && Arrays.equals(Addresses.parse(fields[2]), client);
    }
}
