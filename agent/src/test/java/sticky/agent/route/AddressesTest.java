package sticky.agent.route;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class AddressesTest {
    @Test
    void readsEveryLiteralFormAsTheJdkDoes() throws Exception {
        for (String literal : List.of("0.0.0.0", "127.0.0.1", "255.255.255.255", "10.0.0.10", "::", "::1", "1::",
                "2001:db8::1", "2001:DB8:0:0:8:800:200C:417A", "fe80::1:2", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6::8",
                "1::4:5:6:7:8", "::ffff:1.2.3.4", "::1.2.3.4", "64:ff9b::192.0.2.33", "1:2:3:4:5:6:1.2.3.4",
                "0:0:0:0:0:0:0:0", "abcd:ef01:2345:6789:abcd:ef01:2345:6789")) {
            byte[] expected = sticky.agent.common.IpAddresses.normalise(InetAddress.getByName(literal).getAddress());
            assertArrayEquals(expected, Addresses.parse(literal), literal);
        }
    }

    @Test
    void refusesWhatIsNoLiteralWithoutLookingItUp() {
        // Each of the first three made InetAddress.getByName consult nscd, /etc/hosts and DNS.
        for (String text : List.of(".::1", ".:1:2", "..:1:2", "localhost", "banana", "1.2.3", "1.2.3.4.5", "256.0.0.1",
                "010.0.0.1", "1.2.3.04", "00.0.0.0", "1.2.3.", ".1.2.3", "1..2.3", "١٢٧.0.0.1", "１.2.3.4", "+1.2.3.4",
                ":::", "1:::2", "1::2::3", ":1::", "1::2:", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::8", "12345::",
                "::g", "fe80::1%eth0", "::1.2.3", "::1.2.3.4.5", "1:2:3:4:5:6:7:1.2.3.4", "::ffff:1.2.3.4:1", "::1.2.3.4::",
                " ::1", "::1 ", "", ":", "[::1]")) {
            assertNull(Addresses.parse(text), text);
        }
    }
}
