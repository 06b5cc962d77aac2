package sticky.agent.master;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.function.Function;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.slf4j.Logger;
import sticky.agent.Logs;

/**
 * The operator's socket, {@code admin} beside the control socket: what
 * {@code java -jar sticky.jar status|reload|stop} talks to. A plain JDK
 * Unix-domain stream socket (the command line needs no native code). One
 * request line, one answer: its first line is the exit code for the command
 * line, the rest is what to print. Only the master's own user may ask
 * (SO_PEERCRED; the 0700 directory already keeps others out), who could
 * signal the master anyway.
 */
final class AdminServer {
    private static final Logger log = Logs.get();
    private static final int MAX_REQUEST = 256;

    /** An answer: the command line's exit code and its output. */
    record Answer(int code, String text) {}

    private final Path path;
    private final Function<String, Answer> commands;
    private ServerSocketChannel server;

    AdminServer(Path path, Function<String, Answer> commands) {
        this.path = path;
        this.commands = commands;
    }

    void start() throws IOException {
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        Thread t = new Thread(this::acceptLoop, "sticky-admin");
        t.setDaemon(true);
        t.start();
    }

    void close() {
        try {
            server.close();
        } catch (IOException | RuntimeException e) {
            log.debug("closing the admin socket: {}", e.toString());
        }
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (server.isOpen()) {
                    log.warn("admin socket: {}", e.getMessage());
                }
                continue;
            }
            Thread t = new Thread(() -> {
                try (client) {
                    serve(client);
                } catch (IOException e) {
                    log.debug("admin connection: {}", e.getMessage());
                }
            }, "sticky-admin-request");
            t.setDaemon(true);
            t.start();
        }
    }

    private void serve(SocketChannel client) throws IOException {
        UnixDomainPrincipal peer = client.getOption(ExtendedSocketOptions.SO_PEERCRED);
        String user = System.getProperty("user.name");
        Answer answer;
        if (!peer.user().getName().equals(user)) {
            log.warn("refused an admin command from user {}", peer.user().getName());
            answer = new Answer(1, "refused: only " + user + " may control this master\n");
        } else {
            answer = commands.apply(readLine(client));
        }
        ByteBuffer out = ByteBuffer.wrap((answer.code() + "\n" + answer.text()).getBytes(StandardCharsets.UTF_8));
        while (out.hasRemaining()) {
            client.write(out);
        }
    }

    private static String readLine(SocketChannel client) throws IOException {
        ByteBuffer in = ByteBuffer.allocate(MAX_REQUEST);
        while (in.hasRemaining()) {
            if (client.read(in) < 0) {
                break;
            }
            if (new String(in.array(), 0, in.position(), StandardCharsets.UTF_8).contains("\n")) {
                break;
            }
        }
        String request = new String(in.array(), 0, in.position(), StandardCharsets.UTF_8);
        int end = request.indexOf('\n');
        return (end < 0 ? request : request.substring(0, end)).strip();
    }
}
