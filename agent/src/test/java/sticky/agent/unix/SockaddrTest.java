package sticky.agent.unix;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.jna.Memory;
import java.net.InetAddress;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The peer as accept4 leaves it in a native sockaddr, read into the accept loop's one buffer. */
class SockaddrTest {
    private static Memory sockaddrIn(byte[] address, int port) {
        Memory sa = new Memory(Sockaddr.MAX_SIZE);
        sa.clear();
        sa.setShort(0, (short) (address.length == 4 ? Libc.AF_INET : Libc.AF_INET6));
        sa.setByte(2, (byte) (port >>> 8));
        sa.setByte(3, (byte) port);
        sa.write(address.length == 4 ? 4 : 8, address, 0, address.length);
        return sa;
    }

    private static byte[] read(Memory sa) {
        byte[] into = new byte[16];
        Arrays.fill(into, (byte) 0x5a); // what the previous connection left there
        return Arrays.copyOf(into, Sockaddr.address(sa, into));
    }

    @Test
    void ipv4Ipv6AndIpv4MappedPeers() throws Exception {
        byte[] v4 = InetAddress.getByName("10.1.2.3").getAddress();
        byte[] v6 = InetAddress.getByName("2001:db8::7").getAddress();
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(v4, 0, mapped, 12, 4);
        try (Memory a = sockaddrIn(v4, 8080); Memory b = sockaddrIn(v6, 1); Memory c = sockaddrIn(mapped, 65535)) {
            assertArrayEquals(v4, read(a));
            assertEquals(8080, Sockaddr.port(a));
            assertArrayEquals(v6, read(b));
            assertEquals(1, Sockaddr.port(b));
            assertArrayEquals(v4, read(c), "an IPv4-mapped peer is its IPv4 address");
            assertEquals(65535, Sockaddr.port(c));
        }
    }

    @Test
    void anotherFamilyHasNoAddress() {
        try (Memory unix = new Memory(Sockaddr.MAX_SIZE)) {
            unix.clear();
            unix.setShort(0, (short) Libc.AF_UNIX);
            assertEquals(0, Sockaddr.address(unix, new byte[16]));
        }
    }
}
