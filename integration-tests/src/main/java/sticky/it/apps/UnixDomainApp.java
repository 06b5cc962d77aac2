package sticky.it.apps;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A Unix-domain server as such servers are often written: it deletes a stale
 * socket file, binds the path, and answers each connection with "pid=P" and
 * closes it. Prints "unix PATH" once bound. Args: path.
 */
public final class UnixDomainApp {
    public static void main(String[] args) throws Exception {
        Path path = Path.of(args[0]);
        Files.deleteIfExists(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        System.out.println("unix " + path);
        while (true) {
            try (SocketChannel client = server.accept()) {
                client.write(ByteBuffer.wrap(("pid=" + ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)));
            }
        }
    }
}
