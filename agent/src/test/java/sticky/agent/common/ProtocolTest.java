package sticky.agent.common;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import sticky.agent.common.Protocol.BindError;
import sticky.agent.common.Protocol.BindOk;
import sticky.agent.common.Protocol.BindRequest;
import sticky.agent.common.Protocol.Handoff;
import sticky.agent.common.Protocol.Hello;
import sticky.agent.common.Protocol.Message;
import sticky.agent.common.Protocol.ProtocolException;
import sticky.agent.common.Protocol.Ready;

class ProtocolTest {
    static List<Message> samples() throws Exception {
        return List.of(
                new Hello(2, 3, "secret", 4242L),
                new Ready(),
                new Protocol.Refused(2, "a worker of protocol 3 cannot join"),
                new Protocol.MasterHello(3, 2, "secret", 77L, 4),
                new Protocol.Handed(Protocol.KERNEL,
                        new BindRequest(0, "", 6, InetAddress.getByName("::"), 8080, 0, 0, false, false, ""), 1),
                new Protocol.Handed(Protocol.UNIX_SOCKET,
                        new BindRequest(0, "", Protocol.UNIX, InetAddress.getByName("0.0.0.0"), 0, 0, 0, false, false,
                                "/run/app.sock"), -1),
                new Protocol.HandedAll(5, List.of(1, 4)),
                new Protocol.HandedAll(0, List.of()),
                new Protocol.TakeOver(),
                new Protocol.Frozen(List.of(12L, 13L)),
                new Protocol.Frozen(List.of()),
                new Protocol.Done(),
                new BindRequest(2, "s3cr3t", 6, InetAddress.getByName("::"), 8080, 1, 65536, true, false, ""),
                new BindRequest(1, "", 4, InetAddress.getByName("127.0.0.1"), 0, 0, 0, false, true, ""),
                new BindRequest(1, "s", Protocol.UNIX, InetAddress.getByName("0.0.0.0"), 0, 0, 0, false, false, "/run/app.sock"),
                new BindOk(new InetSocketAddress(InetAddress.getByName("::"), 40001), false),
                new BindOk(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 40002), true),
                new BindError(true, "Address already in use"),
                new BindError(false, "Permission denied"),
                new Handoff(new InetSocketAddress(InetAddress.getByName("10.1.2.3"), 65535)),
                new Handoff(new InetSocketAddress(InetAddress.getByName("::1"), 1)));
    }

    @Test
    void everyMessageSurvivesTheWire() throws Exception {
        for (Message m : samples()) {
            assertEquals(m, Protocol.decode(Protocol.encode(m)));
        }
    }

    @Test
    void aHelloOfProtocolOneBeforeVersionsIsReadAsVersionOne() throws Exception {
        byte[] secret = "s".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] legacy = java.nio.ByteBuffer.allocate(1 + 4 + 2 + secret.length + 8).put((byte) 'H').putInt(2)
                .putShort((short) secret.length).put(secret).putLong(99L).array();
        assertEquals(new Hello(1, 2, "s", 99L), Protocol.decode(legacy));
    }

    @Test
    void everyVersionReadsTheVersionAtTheStartOfAFirstMessage() throws Exception {
        // What a master of any version reads first: the type, then the version, then what that version says.
        for (Message m : List.of(new Hello(7, 1, "s", 1L), new Protocol.MasterHello(7, 5, "s", 1L, 2))) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(Protocol.encode(m));
            b.get();
            assertEquals(7, b.getInt(), m.toString());
        }
    }

    @Test
    void aHandoffOfAnIpv4MappedAddressArrivesAsIpv4() throws Exception {
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        mapped[12] = 127;
        mapped[15] = 9;
        Handoff h = assertInstanceOf(Handoff.class, Protocol.decode(Protocol.handoff(mapped, 5000)));
        assertArrayEquals(new byte[] {127, 0, 0, 9}, h.peer().getAddress().getAddress());
    }

    @Test
    void theAcceptLoopsHandoffIsTheEncodersBytesWrittenIntoItsBuffer() throws Exception {
        byte[] buffer = new byte[Protocol.MAX_HANDOFF];
        for (String address : List.of("192.0.2.1", "2001:db8::1")) {
            InetSocketAddress peer = new InetSocketAddress(InetAddress.getByName(address), 54321);
            byte[] scratch = Arrays.copyOf(peer.getAddress().getAddress(), 16); // the loop's 16-byte peer buffer
            int length = Protocol.handoff(scratch, peer.getAddress().getAddress().length, peer.getPort(), buffer);
            assertArrayEquals(Protocol.encode(new Handoff(peer)), Arrays.copyOf(buffer, length));
        }
    }

    @Test
    void malformedInputIsAProtocolExceptionNeverAnotherFailure() throws Exception {
        assertThrows(ProtocolException.class, () -> Protocol.decode(null));
        assertThrows(ProtocolException.class, () -> Protocol.decode(new byte[0]));
        assertThrows(ProtocolException.class, () -> Protocol.decode(new byte[] {'X'}));
        for (Message m : samples()) {
            byte[] bytes = Protocol.encode(m);
            for (int length = 0; length < bytes.length; length++) {
                byte[] truncated = Arrays.copyOf(bytes, length);
                assertThrows(ProtocolException.class, () -> Protocol.decode(truncated), m + " cut to " + length);
            }
            byte[] longer = Arrays.copyOf(bytes, bytes.length + 1);
            assertThrows(ProtocolException.class, () -> Protocol.decode(longer), m + " with a trailing byte");
        }
        Random random = new Random(1);
        for (int i = 0; i < 20_000; i++) {
            byte[] garbage = new byte[random.nextInt(64)];
            random.nextBytes(garbage);
            if (garbage.length > 0) {
                garbage[0] = (byte) "HRBOECA".charAt(random.nextInt(7));
            }
            try {
                Protocol.decode(garbage);
            } catch (ProtocolException expected) {
                // the only failure decode may have
            }
        }
    }
}
