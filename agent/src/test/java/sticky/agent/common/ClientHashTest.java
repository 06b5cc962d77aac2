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
