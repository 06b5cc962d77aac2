package sticky.agent.master.ops;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.slf4j.Logger;
import sticky.agent.jvm.Logs;
import sticky.agent.jvm.RateLimitedLog;

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
    /** How long a request line may take to arrive whole. */
    static final long REQUEST_MS = 5000;
    /** Connections whose request line is still on its way, at most. */
    static final int MAX_WAITING = 64;

    /** An answer: the command line's exit code and its output. */
    public record Answer(int code, String text) {}

    private final Path path;
    private final Operations operations;
    private ServerSocketChannel server;
    private final RateLimitedLog troubles = new RateLimitedLog(log);

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

    /**
     * One thread accepts and reads every request line (non-blocking): a
     * connection gets a thread of its own only once its whole line is there,
     * to run the command (some wait long: reload --wait, upgrade). One whose
     * line has not come within {@link #REQUEST_MS} is closed, and at most
     * {@link #MAX_WAITING} wait at a time (the oldest goes for a newer one),
     * so that half-sent requests hold no thread and no operator out.
     */
    private void acceptLoop() {
        try (Selector selector = Selector.open()) {
            server.configureBlocking(false);
            SelectionKey accepting = server.register(selector, SelectionKey.OP_ACCEPT);
            long acceptAgainAt = 0;
            while (server.isOpen()) {
                long now = System.nanoTime();
                if (accepting.interestOps() == 0 && now - acceptAgainAt >= 0) {
                    accepting.interestOps(SelectionKey.OP_ACCEPT);
                }
                selector.select(1000); // a second at most: the accept pause and the requests' times end meanwhile
                List<Waiting> whole = new ArrayList<>();
                for (SelectionKey key : selector.selectedKeys()) {
                    if (key == accepting) {
                        if (!acceptAll(selector)) {
                            accepting.interestOps(0); // out of descriptors: that clears only as connections close
                            acceptAgainAt = System.nanoTime() + 100_000_000L;
                        }
                    } else if (((Waiting) key.attachment()).read()) {
                        key.cancel();
                        whole.add((Waiting) key.attachment());
                    }
                }
                selector.selectedKeys().clear();
                expire(selector);
                selector.selectNow(); // deregisters the cancelled keys, so that their channels may block again
                whole.forEach(this::run);
            }
        } catch (IOException | RuntimeException e) {
            if (server.isOpen()) {
                log.error("admin socket: {}; the operator's commands are not answered any more", e.toString());
            }
        }
    }

    /** A connection's request line, as it comes. */
    private static final class Waiting {
        final SocketChannel client;
        final ByteBuffer line = ByteBuffer.allocate(MAX_REQUEST);
        final long deadline = System.nanoTime() + REQUEST_MS * 1_000_000;
        String request;

        Waiting(SocketChannel client) {
            this.client = client;
        }

        /** Reads what came; true once the line is whole (a newline, the end of the stream, or the most a line may be). */
        boolean read() {
            try {
                int n = client.read(line);
                String text = new String(line.array(), 0, line.position(), StandardCharsets.UTF_8);
                int end = text.indexOf('\n');
                if (end >= 0 || n < 0 || !line.hasRemaining()) {
                    request = (end < 0 ? text : text.substring(0, end)).strip();
                    return true;
                }
                return false;
            } catch (IOException e) {
                request = "";
                return true;
            }
        }
    }

    /** Accepts what is there; false when the master is out of descriptors. */
    private boolean acceptAll(Selector selector) {
        while (true) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (IOException e) {
                troubles.warn("admin socket: {}; accepting again in 100 ms", e.getMessage());
                return false;
            }
            if (client == null) {
                return true;
            }
            try {
                client.configureBlocking(false);
                if (waiting(selector) >= MAX_WAITING) {
                    selector.keys().stream().filter(k -> k.attachment() instanceof Waiting)
                            .min(java.util.Comparator.comparingLong(k -> ((Waiting) k.attachment()).deadline))
                            .ifPresent(AdminServer::drop);
                }
                client.register(selector, SelectionKey.OP_READ, new Waiting(client));
            } catch (IOException e) {
                close(client);
            }
        }
    }

    private static int waiting(Selector selector) {
        return (int) selector.keys().stream().filter(k -> k.isValid() && k.attachment() instanceof Waiting).count();
    }

    private void expire(Selector selector) {
        long now = System.nanoTime();
        for (SelectionKey key : selector.keys()) {
            if (key.isValid() && key.attachment() instanceof Waiting w && now - w.deadline >= 0) {
                troubles.warn("admin socket: no whole request within {} ms; closed", REQUEST_MS);
                drop(key);
            }
        }
    }

    private static void drop(SelectionKey key) {
        key.cancel();
        close((SocketChannel) key.channel());
    }

    /** A whole request: answered on a thread of its own, or told it cannot be now. */
    private void run(Waiting whole) {
        SocketChannel client = whole.client;
        String request = whole.request;
        try {
            client.configureBlocking(true);
            Thread t = new Thread(() -> {
                try (client) {
                    serve(client, request);
                } catch (IOException e) {
                    log.debug("admin connection: {}", e.getMessage());
                }
            }, "sticky-admin-request");
            t.setDaemon(true);
            t.start();
        } catch (IOException | OutOfMemoryError | RuntimeException e) { // no thread to be had: ulimit -u, say
            troubles.warn("admin socket: a command could not be run ({})", e.toString());
            close(client);
        }
    }

    private void serve(SocketChannel client, String request) throws IOException {
        UnixDomainPrincipal peer = client.getOption(ExtendedSocketOptions.SO_PEERCRED);
        String user = System.getProperty("user.name");
        Answer answer;
        if (!peer.user().getName().equals(user)) {
            troubles.warn("refused an admin command from user {}", peer.user().getName());
            answer = new Answer(1, "refused: only " + user + " may control this master\n");
        } else {
            answer = command(request);
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

    private static void close(SocketChannel client) {
        try {
            client.close();
        } catch (IOException e) {
            log.debug("closing an admin connection: {}", e.toString());
        }
    }
}
