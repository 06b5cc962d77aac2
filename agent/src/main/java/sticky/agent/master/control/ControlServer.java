package sticky.agent.master.control;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.concurrent.ThreadFactory;
import org.slf4j.Logger;
import sticky.agent.common.Protocol.BindError;
import sticky.agent.common.Protocol.BindOk;
import sticky.agent.common.Protocol.BindRequest;
import sticky.agent.common.Protocol.Hello;
import sticky.agent.common.Protocol.MasterHello;
import sticky.agent.common.Protocol.Message;
import sticky.agent.common.Protocol.Ready;
import sticky.agent.common.Protocol.Refused;
import sticky.agent.common.Protocol;
import sticky.agent.common.Version;
import sticky.agent.jvm.Logs;
import sticky.agent.jvm.RateLimitedLog;
import sticky.agent.master.lifecycle.Lifecycle;
import sticky.agent.master.lifecycle.MasterLoop;
import sticky.agent.master.listen.Listener;
import sticky.agent.master.listen.Listeners;
import sticky.agent.master.listen.Route;
import sticky.agent.options.Options;
import sticky.agent.unix.FdPasser;
import sticky.agent.unix.Libc;
import sticky.agent.unix.UnixSocket;

/**
 * The master's end of the control channel: a Unix socket in a directory only
 * the owner can enter. Each worker connects once to say hello (and holds that
 * connection: when it breaks, the worker knows the master is gone), and once
 * per server socket it binds; the answer to a bind carries the socket the
 * accepted connections will come on, and the bind's connection stays open
 * until the server socket is closed or the worker dies. A connection is
 * refused unless its peer runs as the master's user (SO_PEERCRED) and its
 * first message carries the cluster's secret and a valid worker id, from a
 * process this master started for that slot. {@link ControlAcceptor} gives
 * a connection a thread only once it has said something; refusals are
 * counted, and logged a few lines at most, however many come.
 */
public final class ControlServer {
    private static final Logger log = Logs.get();

    private final Path path;
    private final byte[] secret;
    private final MasterLoop loop;
    private final Listeners listeners;
    private final Lifecycle lifecycle;
    private final int uid;
    private int fd = -1;
    private volatile boolean closed;
    private volatile Upgrades upgrade;
    /** Control connections refused so far (status shows them: each is someone or something knocking). */
    private final java.util.concurrent.atomic.AtomicLong refused = new java.util.concurrent.atomic.AtomicLong();
    private final RateLimitedLog refusals = new RateLimitedLog(log);
    /** Where each connection that has said something is served. */
    private final ThreadFactory threads;

    /** Every event goes to lifecycle and listeners through the loop; this class holds no state of theirs. */
    public ControlServer(Path path, int uid, String secret, MasterLoop loop, Listeners listeners, Lifecycle lifecycle) {
        this(path, uid, secret, loop, listeners, lifecycle, body -> daemon("sticky-control-connection", body));
    }

    ControlServer(Path path, int uid, String secret, MasterLoop loop, Listeners listeners, Lifecycle lifecycle,
            ThreadFactory threads) {
        this.threads = threads;
        this.uid = uid;
        this.path = path;
        this.secret = secret.getBytes(StandardCharsets.UTF_8);
        this.loop = loop;
        this.listeners = listeners;
        this.lifecycle = lifecycle;
    }

    /** Where a new master's hello goes: the upgrade of this master that started it. */
    public interface Upgrades {
        /** Serves the connection of a new master (pid) that sent hello, until this master exits. */
        void serve(int connection, MasterHello hello, long pid) throws IOException;
    }

    public void upgradeBy(Upgrades upgrade) {
        this.upgrade = upgrade;
    }

    public void start() throws IOException {
        fd = UnixSocket.listen(path, 128);
        ControlAcceptor acceptor = new ControlAcceptor(fd, uid, this::serve, threads, this::refused);
        daemon("sticky-control", acceptor::run).start();
    }

    /** Connections refused since the master started. */
    public long refused() {
        return refused.get();
    }

    public void close() {
        closed = true;
        UnixSocket.shutdown(fd);
        UnixSocket.close(fd);
    }

    /** A connection of the master's user whose first message has arrived (see {@link ControlAcceptor}). */
    private void serve(int connection) {
        Route route = null;
        long pid = -1;
        byte[] buffer = new byte[Protocol.MAX_MESSAGE];
        try {
            pid = UnixSocket.peer(connection).pid();
            UnixSocket.receiveTimeout(connection, ControlAcceptor.FIRST_MESSAGE_MS); // it is there: never waited for
            byte[] said = UnixSocket.receive(connection, buffer);
            UnixSocket.receiveTimeout(connection, 0);
            if (said == null) {
                refused("from pid " + pid + ": it hung up before it said anything");
                return;
            }
            Message first = Protocol.decode(said);
            if (first instanceof Hello hello && hello.version() != Version.protocol()
                    && secretShown(hello.worker(), hello.secret())) { // versions only: told why, given nothing
                refuse(connection, hello, pid);
                return;
            } else if (first instanceof MasterHello hello && upgrade != null) {
                upgrade.serve(connection, hello, pid);
                return;
            } else if (first instanceof Hello hello && hello.version() == Version.protocol()
                    && authorized(hello.worker(), hello.secret(), pid)) {
                long helloPid = pid;
                loop.post(() -> lifecycle.hello(helloPid));
                UnixSocket.send(connection, Protocol.encode(new Ready()));
            } else if (first instanceof BindRequest request && authorized(request.worker(), request.secret(), pid)) {
                route = bind(request, connection, pid);
                if (route == null) {
                    return;
                }
                byte[] answer = Protocol.encode(
                        new BindOk(bound(route.listener()), route.listener().dispatchedByKernel()));
                int errno = new FdPasser(answer.length).send(connection, route.workerEnd(), answer, answer.length);
                if (errno != 0) {
                    throw new IOException("sending the bind answer: " + Libc.strerror(errno));
                }
            } else {
                refused("from pid " + pid + ": not a worker of this master (" + first.getClass().getSimpleName() + ")");
                return;
            }
            // Hold the connection until the worker closes it or dies; it sends nothing more.
            // On a route, its end is the server socket's close.
            while (UnixSocket.receive(connection, buffer) != null) {
                log.debug("ignored a message from pid {} after its first", pid);
            }
        } catch (IOException e) {
            if (route == null) {
                refused("from pid " + pid + ": " + e.getMessage());
            } else {
                log.warn("closed a control connection from pid {}: {}", pid, e.getMessage());
            }
        } finally {
            if (route != null) {
                Route ended = route;
                loop.post(() -> lifecycle.lifelineEnded(ended));
            } else {
                UnixSocket.close(connection);
            }
        }
    }

    /**
     * A worker of another sticky version (sticky.jar replaced on disk, then a
     * rolling restart): it exits with this answer, and its replacement fails,
     * so the old worker keeps serving.
     */
    private void refuse(int connection, Hello hello, long pid) throws IOException {
        String why = "a worker of protocol " + hello.version() + " cannot join a master of protocol "
                + Version.protocol() + " (sticky.jar changed since the master started): replace the master with "
                + "'java -jar sticky.jar upgrade', which starts workers of the new version";
        log.error("refused worker {} (pid {}): {}", hello.worker(), pid, why);
        UnixSocket.send(connection, Protocol.encode(new Refused(Version.protocol(), why)));
    }

    /** Joins or opens the listener and tells the lifecycle, in one loop event; on a bind error, answers with it and returns null. */
    private Route bind(BindRequest request, int connection, long pid) throws IOException {
        try {
            int slot = request.worker() - 1; // the worker sends its id, as it has it from its environment
            // The route goes live (if its process serves the slot) before the worker has the answer, so that
            // a client that connects once the application's bind returned reaches it: until the worker
            // accepts, it waits on the slot's socket (kernel dispatch) or socket pair (master dispatch).
            // Live only after the answer, a CI run's client was sent to the neighbouring slot in between.
            return loop.ask(() -> {
                Route route = listeners.bind(request, slot, pid, connection);
                lifecycle.bound(route);
                return route;
            });
        } catch (IOException e) {
            UnixSocket.send(connection, Protocol.encode(
                    new BindError(e instanceof BindException, String.valueOf(e.getMessage()))));
            return null;
        } catch (Exception e) {
            throw new IOException("binding " + request.address() + ":" + request.port() + ": " + e, e);
        }
    }

    /** The address a bind answer names: 0.0.0.0:0 for a Unix-domain socket, whose worker reads its path from the socket. */
    private static InetSocketAddress bound(Listener listener) {
        return listener.localAddress() != null ? listener.localAddress() : new InetSocketAddress(0);
    }

    /**
     * The cluster's secret, and a process this master started for that
     * worker's slot (SO_PEERCRED's pid): a process of the same user that read
     * the secret from a worker's environment is no worker.
     */
    private boolean authorized(int worker, String given, long pid) throws IOException {
        if (!secretShown(worker, given)) {
            return false;
        }
        try {
            return loop.ask(() -> lifecycle.isWorker(pid, worker - 1));
        } catch (Exception e) {
            throw new IOException("asking the master's loop: " + e, e);
        }
    }

    private boolean secretShown(int worker, String given) {
        // Constant time: the secret must not leak through timing.
        return MessageDigest.isEqual(secret, given.getBytes(StandardCharsets.UTF_8)) && worker >= 1
                && worker <= Options.MAX_WORKERS;
    }

    /** A connection refused: counted (status shows it), and logged, a few lines at most however many come. */
    private void refused(String why) {
        refused.incrementAndGet();
        refusals.warn("refused a control connection {}", why);
    }

    private static Thread daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        return t;
    }
}
