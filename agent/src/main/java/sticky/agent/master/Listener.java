package sticky.agent.master;

import com.sun.jna.Memory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.slf4j.Logger;
import sticky.agent.ClientHash;
import sticky.agent.JdkAccess;
import sticky.agent.Logs;
import sticky.agent.Protocol;
import sticky.agent.Protocol.BindRequest;
import sticky.agent.route.Router;
import sticky.agent.unix.FdPasser;
import sticky.agent.unix.Libc;
import sticky.agent.unix.Sockaddr;

/**
 * One listening TCP socket the master owns on behalf of the workers that
 * bound it. Its thread accepts, hashes the client address to a worker slot and
 * passes the socket to that slot's live route; it never reads a byte of the
 * connection. A slot without a live route gives its clients to the next live
 * slot, so the clients of the other slots never move. With no live route at
 * all, the thread stops accepting and connections wait in the kernel's
 * backlog for a worker to come (back).
 */
final class Listener {
    private static final Logger log = Logs.get();
    static final int BACKLOG = 1024;
    private static final ThreadLocal<FdPasser> PASSERS = ThreadLocal.withInitial(FdPasser::new);

    /**
     * A connection: its descriptor, its TCP peer, and the client address it is
     * routed by (the peer, or the client a trusted proxy names). The master
     * keeps it, once handed over, until the worker acknowledges it.
     */
    record Pending(int fd, byte[] address, int port, byte[] key) {}

    /** One worker process's connection for this listener. */
    static final class Route {
        final Listener listener;
        final int worker;
        final long pid;
        private final int connection;
        private final Map<Long, Pending> pending = new HashMap<>();
        private boolean closed;
        /** The worker has its bind answer: sockets may follow it on the connection. */
        volatile boolean answered;

        Route(Listener listener, int worker, long pid, int connection) {
            this.listener = listener;
            this.worker = worker;
            this.pid = pid;
            this.connection = connection;
        }

        /** Sends the socket; on success it is pending until acknowledged. Returns 0 or the errno. */
        synchronized int pass(FdPasser passer, long id, Pending connection, byte[] payload) {
            // Under the lock so that close() cannot free the descriptor number mid-send.
            if (closed) {
                return Libc.EPIPE;
            }
            int errno = passer.send(this.connection, connection.fd(), payload, payload.length);
            if (errno == 0) {
                pending.put(id, connection);
            }
            return errno;
        }

        synchronized void acknowledged(long id) {
            Pending p = pending.remove(id);
            if (p != null) {
                Libc.close(p.fd());
            }
        }

        /** Closes the connection to the worker, once; returns what it never acknowledged. */
        synchronized List<Pending> close() {
            if (closed) {
                return List.of(); // never twice: the number may belong to another descriptor by now
            }
            closed = true;
            Libc.close(connection);
            List<Pending> unacknowledged = new ArrayList<>(pending.values());
            pending.clear();
            return unacknowledged;
        }
    }

    private final ServerSocketChannel channel;
    private final int fd;
    private final InetSocketAddress local;
    private final List<Route> routes = new ArrayList<>();
    /** The route each slot's connections go to; replaced whole, read without a lock. */
    private volatile Route[] live;
    private final AtomicLong handoffs = new AtomicLong();
    private final AtomicLongArray dispatched;
    private final Thread acceptor;
    private final Router router;
    private final Peeker peeker;
    private volatile boolean closing;

    private Listener(ServerSocketChannel channel, AtomicLongArray dispatched, Router router) throws IOException {
        this.channel = channel;
        this.dispatched = dispatched;
        this.router = router;
        this.fd = JdkAccess.channelFd(channel);
        this.local = (InetSocketAddress) channel.getLocalAddress();
        this.live = new Route[dispatched.length()];
        this.acceptor = new Thread(this::acceptLoop, "sticky-listener-" + local.getPort());
        this.acceptor.setDaemon(true);
        this.peeker = router.mode() != Router.Mode.PROXY && router.mode() != Router.Mode.HEADER ? null
                : new Peeker(router, this::route, "sticky-peeker-" + local.getPort());
    }

    /** Binds the real socket as the application asked; the JDK's own BindException on failure. */
    static Listener open(BindRequest request, AtomicLongArray dispatched, Router router) throws IOException {
        ServerSocketChannel channel = ServerSocketChannel.open(
                request.family() == 4 ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6);
        try {
            if (request.receiveBuffer() > 0) {
                channel.setOption(StandardSocketOptions.SO_RCVBUF, request.receiveBuffer());
            }
            channel.bind(new InetSocketAddress(request.address(), request.port()), BACKLOG);
            Listener listener = new Listener(channel, dispatched, router);
            listener.acceptor.start();
            log.info("listening on {}", listener.local);
            return listener;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    InetSocketAddress localAddress() {
        return local;
    }

    synchronized Route add(int worker, long pid, int connection) {
        Route route = new Route(this, worker, pid, connection);
        routes.add(route);
        return route;
    }

    /** Makes route its slot's live route, once its worker has the bind answer. */
    synchronized void goLive(Route route) {
        if (route.answered && routes.contains(route)) {
            Route[] next = live.clone();
            next[route.worker - 1] = route;
            live = next;
            notifyAll();
        }
    }

    /** Makes the route of process pid its slot's live route, if it has one here. */
    synchronized void promote(int worker, long pid) {
        for (Route route : routes) {
            if (route.worker == worker && route.pid == pid) {
                goLive(route);
            }
        }
    }

    synchronized boolean hasRouteOf(long pid, boolean answered) {
        return routes.stream().anyMatch(r -> r.pid == pid && (r.answered || !answered));
    }

    synchronized boolean isEmpty() {
        return routes.isEmpty();
    }

    /** Removes the route; returns the connections its worker never acknowledged. */
    synchronized List<Pending> remove(Route route) {
        routes.remove(route);
        if (live[route.worker - 1] == route) {
            Route[] next = live.clone();
            next[route.worker - 1] = null;
            live = next;
        }
        return route.close();
    }

    /** Hands connections again, to the live routes now; closes what no worker takes. */
    void redispatch(List<Pending> connections) {
        for (Pending p : connections) {
            if (!dispatch(p, PASSERS.get())) {
                log.warn("a connection to {} was lost with its worker: no other worker took it", local);
                Libc.close(p.fd());
            }
        }
        if (!connections.isEmpty()) {
            log.info("handed {} unaccepted connection(s) to {} to other workers", connections.size(), local);
        }
    }

    void close() {
        closing = true;
        synchronized (this) {
            notifyAll();
        }
        // A thread blocked in accept4 does not wake when its descriptor is closed; shutdown wakes it.
        Libc.shutdown(fd, Libc.SHUT_RDWR);
        try {
            acceptor.join(1000);
            if (peeker != null) {
                peeker.close();
            }
            channel.close();
        } catch (IOException e) {
            log.warn("closing listener {}: {}", local, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<Route> all;
        synchronized (this) {
            all = new ArrayList<>(routes);
            routes.clear();
            live = new Route[live.length];
        }
        for (Route r : all) {
            for (Pending p : r.close()) {
                Libc.close(p.fd());
            }
        }
        log.info("closed listener on {}", local);
    }

    private synchronized boolean awaitLiveRoute() throws InterruptedException {
        while (!closing && java.util.Arrays.stream(live).allMatch(r -> r == null)) {
            wait();
        }
        return !closing;
    }

    private void acceptLoop() {
        byte[] peekBuffer = peeker == null ? null : new byte[router.window()];
        try (Memory sockaddr = new Memory(Sockaddr.MAX_SIZE); Memory length = new Memory(4)) {
            while (awaitLiveRoute()) {
                length.setInt(0, Sockaddr.MAX_SIZE);
                int client = Libc.accept4(fd, sockaddr, length, Libc.SOCK_CLOEXEC);
                if (client < 0) {
                    int errno = Libc.errno();
                    if (closing) {
                        return;
                    }
                    if (errno == Libc.EINTR || errno == Libc.ECONNABORTED) {
                        continue;
                    }
                    if (errno == Libc.EMFILE || errno == Libc.ENFILE) {
                        log.warn("out of file descriptors accepting on {}; retrying", local);
                        Thread.sleep(50); // back off: the condition clears only as connections close
                        continue;
                    }
                    log.error("accept on {} failed: {}; listener stopped", local, Libc.strerror(errno));
                    return;
                }
                byte[] address = Sockaddr.address(sockaddr);
                if (address == null) {
                    Libc.close(client);
                    continue;
                }
                Pending connection = new Pending(client, address, Sockaddr.port(sockaddr), address);
                if (peeker != null && router.peeks(address)) {
                    peeker.route(connection, peekBuffer);
                } else {
                    route(connection, address);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Hands the connection to the worker of client's slot (or the next live one); closes it if none takes it. */
    private void route(Pending connection, byte[] client) {
        Pending keyed = client == connection.key() ? connection
                : new Pending(connection.fd(), connection.address(), connection.port(), client);
        if (!dispatch(keyed, PASSERS.get())) {
            log.warn("no worker took a connection on {}; closed it", local);
            Libc.close(connection.fd());
        }
    }

    private boolean dispatch(Pending connection, FdPasser passer) {
        long id = handoffs.incrementAndGet();
        byte[] payload = Protocol.handoff(id, connection.address(), connection.port());
        Route[] routes = live;
        int slot = router.mode() == Router.Mode.ROUND_ROBIN ? (int) (id % routes.length)
                : ClientHash.slot(connection.key(), routes.length);
        for (int i = 0; i < routes.length; i++) {
            Route route = routes[(slot + i) % routes.length];
            if (route == null) {
                continue;
            }
            int errno = route.pass(passer, id, connection, payload);
            if (errno == 0) {
                dispatched.incrementAndGet(route.worker - 1);
                return true;
            }
            log.debug("worker {} did not take a connection on {}: {}", route.worker, local, Libc.strerror(errno));
        }
        return false;
    }
}
