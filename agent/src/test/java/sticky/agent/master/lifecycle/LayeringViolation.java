package sticky.agent.master.lifecycle;

import java.io.IOException;
import java.nio.channels.SocketChannel;

/** A lifecycle class that opens a channel, which the layering rules forbid: LayeringTest shows they catch it. */
public final class LayeringViolation {
    private LayeringViolation() {}

    static SocketChannel open() throws IOException {
        return SocketChannel.open();
    }
}
