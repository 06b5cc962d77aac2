package sticky.agent.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClientHashTest {
    @Test
    void anIpv4MappedAddressHashesLikeItsIpv4Address() throws Exception {
        for (int i = 0; i < 256; i++) {
            byte[] v4 = {(byte) 192, (byte) 168, 7, (byte) i};
            byte[] mapped = new byte[16];
            mapped[10] = (byte) 0xff;
            mapped[11] = (byte) 0xff;
            System.arraycopy(v4, 0, mapped, 12, 4);
            assertEquals(ClientHash.slot(v4, 7), ClientHash.slot(mapped, 7));
        }
    }

    @Test
    void theSlotDependsOnlyOnTheAddress() throws Exception {
        // Pinned values (FNV-1a then MurmurHash3 fmix32, computed independently):
        // a change here moves every client of every deployed cluster.
        assertEquals(0xf3e4adf6, ClientHash.hash(InetAddress.getByName("127.0.0.1").getAddress()));
        assertEquals(0x7ce76b55, ClientHash.hash(InetAddress.getByName("::1").getAddress()));
    }

    @Test
    void anAddressAtTheStartOfALongerBufferHashesAsItself() throws Exception {
        byte[] v4 = InetAddress.getByName("203.0.113.9").getAddress();
        byte[] buffer = {(byte) 203, 0, 113, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}; // the accept loop's buffer
        assertEquals(ClientHash.hash(v4), ClientHash.hash(buffer, 4));
        assertEquals(ClientHash.slot(v4, 5), ClientHash.slot(buffer, 4, 5));
    }

    /**
     * Jump consistent hash: a count one larger moves about 1/(N + 1) of the
     * clients, every one to the new slot; one smaller moves only the last
     * slot's, back where they were.
     */
    @Test
    void aCountChangedByOneMovesOnlyTheClientsThatMust() {
        java.util.Random random = new java.util.Random(3);
        int clients = 30_000;
        for (int n = 1; n < 256; n++) {
            int moved = 0;
            for (int i = 0; i < clients; i++) {
                byte[] address = new byte[i % 3 == 0 ? 16 : 4];
                random.nextBytes(address);
                int before = ClientHash.slot(address, n);
                int after = ClientHash.slot(address, n + 1);
                if (before != after) {
                    assertEquals(n, after, "a client that moves goes to the new slot");
                    moved++;
                }
            }
            double expected = (double) clients / (n + 1);
            // within five standard deviations of a binomial draw
            double sigma = Math.sqrt(clients * (1.0 / (n + 1)) * (1 - 1.0 / (n + 1)));
            assertTrue(Math.abs(moved - expected) < 5 * sigma + 1, n + " -> " + (n + 1) + ": " + moved + " moved, about "
                    + (int) expected + " expected");
        }
    }

    @Test
    void aClientsSlotIsUnderTheCountAndEverySlotGetsItsShare() {
        for (int n : new int[] {1, 2, 5, 17, 256}) {
            int[] counts = new int[n];
            for (int i = 0; i < 64 * n; i++) {
                byte[] address = {10, (byte) (i >> 16), (byte) (i >> 8), (byte) i};
                counts[ClientHash.slot(address, n)]++; // an index past the count would throw
            }
            for (int c : counts) {
                assertTrue(c > 64 * 0.5 && c < 64 * 1.6, n + " slots: " + java.util.Arrays.toString(counts));
            }
        }
    }

    @Test
    void nearbyAddressesSpreadOverTheSlots() {
        Map<Integer, Integer> counts = new HashMap<>();
        for (int i = 0; i < 4096; i++) {
            byte[] address = {10, 0, (byte) (i >> 8), (byte) i};
            counts.merge(ClientHash.slot(address, 4), 1, Integer::sum);
        }
        assertEquals(4, counts.size());
        counts.values().forEach(n -> assertTrue(n > 4096 / 4 * 0.8 && n < 4096 / 4 * 1.2, counts.toString()));
    }
}
