package sticky.agent.master.ops;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.slf4j.Logger;
import sticky.agent.jvm.Logs;

/**
 * The operator's socket, {@code admin} beside the control socket: what
 * {@code java -jar sticky.jar status|reload|stop|upgrade} talks to. A plain JDK
 * Unix-domain stream socket (the command line needs no native code). One
 * request line, one answer: its first line is the exit code for the command
 * line, the rest is what to print. Only the master's own user may ask
 * (SO_PEERCRED; the 0700 directory already keeps others out), who could
 * signal the master anyway.
 */
public final class AdminServer {
    private static final Logger log = Logs.get();
    private static final int MAX_REQUEST = 256;

    /** An answer: the command line's exit code and its output. */
    public record Answer(int code, String text) {}

    private final Path path;
    private final Operations operations;
    private ServerSocketChannel server;

    public AdminServer(Path path, Operations operations) {
        this.path = path;
        this.operations = operations;
    }

    public void start() throws IOException {
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        Thread t = new Thread(this::acceptLoop, "sticky-admin");
        t.setDaemon(true);
        t.start();
    }

    public void close() {
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
            answer = command(readLine(client));
        }
        ByteBuffer out = ByteBuffer.wrap((answer.code() + "\n" + answer.text()).getBytes(StandardCharsets.UTF_8));
        while (out.hasRemaining()) {
            client.write(out);
        }
    }

    /** One request line of the command line's (Cli): its answer. */
    private Answer command(String request) {
        switch (request) {
            case "status":
                return new Answer(0, operations.status().text());
            case "status --json":
                return new Answer(0, operations.status().json());
            case "metrics":
                return new Answer(0, operations.status().prometheus());
            case "upgrade":
                return operations.upgrade();
            case "reload": {
                String refused = operations.reload();
                return refused == null ? new Answer(0, "rolling restart started\n") : new Answer(1, refused + "\n");
            }
            case "reload --wait": {
                String failed = operations.reloadAndWait();
                return failed == null ? new Answer(0, "rolling restart done\n") : new Answer(1, failed + "\n");
            }
            case "scale":
                return new Answer(2, "scale needs a count: N, +N or -N\n");
            case "stop":
                log.info("stop requested by the operator");
                operations.stop();
                return new Answer(0, "stopping\n");
            default:
                if (request.matches("scale [+-]?[0-9]{1,3}")) {
                    return operations.scale(request.substring("scale ".length()));
                }
                return new Answer(2, "unknown command '" + request + "'\n");
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
