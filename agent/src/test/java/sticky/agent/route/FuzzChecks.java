package sticky.agent.route;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import sticky.agent.common.IpAddresses;

/** What every verdict of the fuzz targets must be, whatever the input. */
final class FuzzChecks {
    private FuzzChecks() {}

    /** A client is a whole address, IPv4-mapped ones made IPv4; no other verdict carries one. */
    static void sane(Verdict verdict) {
        assertTrue(verdict.header() >= 0, "header length " + verdict.header());
        if (verdict.kind() == Verdict.Kind.CLIENT) {
            byte[] client = verdict.client();
            assertTrue(client.length == 4 || client.length == 16, "address of " + client.length + " bytes");
            assertFalse(IpAddresses.isIpv4Mapped(client, client.length), "an IPv4-mapped client");
            assertTrue(verdict.port() >= 0 && verdict.port() <= 65535, "port " + verdict.port());
        } else {
            assertNull(verdict.client());
        }
    }

    static void assertSameVerdict(Verdict expected, Verdict actual, String message) {
        assertEquals(expected.kind(), actual.kind(), message);
        assertArrayEquals(expected.client(), actual.client(), message);
        assertEquals(expected.port(), actual.port(), message);
        assertEquals(expected.header(), actual.header(), message);
    }

    /**
     * Whether some address literal in the text reads as address: a run of the
     * characters literals are made of, or such a run up to its last ':' (an
     * IPv4 address with a port).
     */
    static boolean isWrittenIn(byte[] text, byte[] address) {
        String s = new String(text, StandardCharsets.ISO_8859_1);
        for (String run : s.split("[^0-9A-Fa-f:.]+")) {
            int colon = run.lastIndexOf(':');
            if (Arrays.equals(Addresses.parse(run), address)
                    || colon > 0 && Arrays.equals(Addresses.parse(run.substring(0, colon)), address)) {
                return true;
            }
        }
        return false;
    }
}
