package sticky.agent.master;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.function.Consumer;
import org.slf4j.Logger;
import sticky.agent.Logs;
import sticky.agent.Protocol;
import sticky.agent.Protocol.BindError;
import sticky.agent.Protocol.BindOk;
import sticky.agent.Protocol.BindRequest;
import sticky.agent.Protocol.Hello;
import sticky.agent.Protocol.Message;
import sticky.agent.Protocol.Ready;
import sticky.agent.master.Listener.Route;
import sticky.agent.unix.UnixSocket;

/**
 * The master's end of the control channel: a Unix socket in a directory only
 * the owner can enter. Each worker connects once to say hello (and holds that
 * connection: when it breaks, the worker knows the master is gone), and once
 * per server socket it binds. A connection's first message must carry the
 * cluster's secret and a valid worker id, or it is refused.
 */
final class ControlServer {
    private static final Logger log = Logs.get();

    private final Path path;
    private final byte[] secret;
    private final int workers;
    private final Listeners listeners;
    private final Consumer<Hello> onHello;
    private int fd = -1;
    private volatile boolean closed;

    ControlServer(Path path, String secret, int workers, Listeners listeners, Consumer<Hello> onHello) {
        this.path = path;
        this.secret = secret.getBytes(StandardCharsets.UTF_8);
        this.workers = workers;
        this.listeners = listeners;
        this.onHello = onHello;
    }

    void start() throws IOException {
        fd = UnixSocket.listen(path, 128);
        daemon("sticky-control", this::acceptLoop).start();
    }

    void close() {
        closed = true;
        UnixSocket.shutdown(fd);
        UnixSocket.close(fd);
    }

    private void acceptLoop() {
        while (!closed) {
            int connection;
            try {
                connection = UnixSocket.accept(fd);
            } catch (IOException e) {
                log.warn("control socket: {}", e.getMessage());
                continue;
            }
            if (connection < 0) {
                return;
            }
            daemon("sticky-control-" + connection, () -> serve(connection)).start();
        }
    }

    private void serve(int connection) {
        Route route = null;
        byte[] buffer = new byte[4096];
        try {
            Message first = Protocol.decode(UnixSocket.receive(connection, buffer));
            if (first instanceof Hello hello && authorized(hello.worker(), hello.secret())) {
                onHello.accept(hello);
                UnixSocket.send(connection, Protocol.encode(new Ready()));
            } else if (first instanceof BindRequest request && authorized(request.worker(), request.secret())) {
                route = bind(request, connection);
                if (route == null) {
                    return;
                }
            } else {
                log.warn("refused a control connection: unexpected or unauthorised {}", first.getClass().getSimpleName());
                return;
            }
            // Hold the connection until the worker closes it (or dies): for a route,
            // that is the application closing its server socket.
            while (UnixSocket.receive(connection, buffer) != null) {
                log.debug("ignored an unexpected control message");
            }
        } catch (IOException e) {
            log.warn("control connection: {}", e.getMessage());
        } finally {
            if (route != null) {
                listeners.release(route);
            } else {
                UnixSocket.close(connection);
            }
        }
    }

    private Route bind(BindRequest request, int connection) throws IOException {
        Route route;
        try {
            route = listeners.bind(request, connection);
        } catch (IOException e) {
            UnixSocket.send(connection, Protocol.encode(
                    new BindError(e instanceof java.net.BindException, String.valueOf(e.getMessage()))));
            return null;
        }
        try {
            UnixSocket.send(connection, Protocol.encode(new BindOk(route.listener.localAddress())));
        } catch (IOException e) {
            listeners.release(route);
            throw e;
        }
        route.activate();
        return route;
    }

    private boolean authorized(int worker, String given) {
        // Constant time: the secret must not leak through timing.
        boolean secretOk = MessageDigest.isEqual(secret, given.getBytes(StandardCharsets.UTF_8));
        return secretOk && worker >= 1 && worker <= workers;
    }

    private static Thread daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        return t;
    }
}
