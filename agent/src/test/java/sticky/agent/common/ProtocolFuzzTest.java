package sticky.agent.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import sticky.agent.common.Protocol.Message;
import sticky.agent.common.Protocol.ProtocolException;

/**
 * The control protocol's decoder against any message (Jazzer; every build
 * replays the kept inputs in ProtocolFuzzTestInputs, seeded with one of each
 * message). A peer on the control socket can send anything: the decoder
 * either refuses it with its own error or reads a message that its encoder
 * writes back to the same message.
 */
class ProtocolFuzzTest {
    @FuzzTest
    void anyMessage(byte[] data) {
        Message message;
        try {
            message = Protocol.decode(data);
        } catch (ProtocolException e) {
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "a refusal says why");
            return;
        }
        byte[] encoded = Protocol.encode(message);
        assertTrue(encoded.length <= Protocol.MAX_MESSAGE);
        try {
            assertEquals(message, Protocol.decode(encoded), "encoded and decoded again");
        } catch (ProtocolException e) {
            throw new AssertionError("sticky's own encoding of " + message + " is refused: " + e.getMessage(), e);
        }
    }
}
