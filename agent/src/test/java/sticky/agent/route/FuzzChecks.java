package sticky.agent.route;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
     * Whether some address literal in the text reads as address: a part of a
     * run of the characters literals are made of, from the run's start or a
     * ':' to the run's end or a ':' ("For:1.2.3.4:80" holds 1.2.3.4 after the
     * header's colon, before the port's).
     */
    static boolean isWrittenIn(byte[] text, byte[] address) {
        String s = new String(text, StandardCharsets.ISO_8859_1);
        for (String run : s.split("[^0-9A-Fa-f:.]+")) {
            List<Integer> cuts = new ArrayList<>(List.of(-1)); // where a part may begin (after) or end
            for (int i = run.indexOf(':'); i >= 0; i = run.indexOf(':', i + 1)) {
                cuts.add(i);
            }
            cuts.add(run.length());
            for (int i = 0; i < cuts.size(); i++) {
                for (int j = i + 1; j < cuts.size(); j++) {
                    if (Arrays.equals(Addresses.parse(run.substring(cuts.get(i) + 1, cuts.get(j))), address)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }
}
