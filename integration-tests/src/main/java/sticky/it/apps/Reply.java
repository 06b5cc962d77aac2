package sticky.it.apps;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * What every sample app answers a connection with: one line naming the
 * process that served it and the client address and port it sees. The apps know
 * nothing of sticky; the tests read these lines.
 */
final class Reply {
    private Reply() {}

    static String line(InetSocketAddress peer, int receiveBuffer) {
        return "pid=" + ProcessHandle.current().pid() + " peer=" + peer.getAddress().getHostAddress()
                + " port=" + peer.getPort() + " rcvbuf=" + receiveBuffer + "\n";
    }

    static void to(Socket socket) throws IOException {
        try (socket; OutputStream out = socket.getOutputStream()) {
            out.write(line((InetSocketAddress) socket.getRemoteSocketAddress(), socket.getReceiveBufferSize())
                    .getBytes(StandardCharsets.UTF_8));
        }
    }

    static void to(SocketChannel channel) throws IOException {
        try (channel) {
            channel.configureBlocking(true);
            String line = line((InetSocketAddress) channel.getRemoteAddress(), channel.socket().getReceiveBufferSize());
            ByteBuffer bytes = ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8));
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
        }
    }

    static void listening(int port) {
        System.out.println("listening " + port);
    }
}
