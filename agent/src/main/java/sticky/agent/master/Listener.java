package sticky.agent.master;

import com.sun.jna.Memory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.slf4j.Logger;
import sticky.agent.ClientHash;
import sticky.agent.JdkAccess;
import sticky.agent.Logs;
import sticky.agent.Protocol;
import sticky.agent.Protocol.BindRequest;
import sticky.agent.unix.FdPasser;
import sticky.agent.unix.Libc;
import sticky.agent.unix.Sockaddr;

/**
 * One listening TCP socket the master owns on behalf of the workers that
 * bound it. Its thread accepts, hashes the client address to a worker slot and
 * passes the socket to that worker; it never reads a byte of the connection.
 * A slot without a live worker gives its clients to the next live slot, so the
 * clients of the other slots never move.
 */
final class Listener {
    private static final Logger log = Logs.get();
    static final int BACKLOG = 1024;

    /** A worker's connection for this listener, keyed by its slot (worker id - 1). */
    static final class Route {
        final Listener listener;
        final int worker;
        private final int connection;
        private volatile boolean active;
        private boolean closed;

        Route(Listener listener, int worker, int connection) {
            this.listener = listener;
            this.worker = worker;
            this.connection = connection;
        }

        /** Eligible for connections once the worker has its bind answer. */
        void activate() {
            active = true;
            listener.startAccepting();
        }

        synchronized int pass(FdPasser passer, int fd, byte[] payload) {
            // Under the lock so that close() cannot free the descriptor number mid-send.
            return closed ? Libc.EPIPE : passer.send(connection, fd, payload, payload.length);
        }

        synchronized void close() {
            if (!closed) {
                closed = true;
                Libc.close(connection);
            }
        }
    }

    private final ServerSocketChannel channel;
    private final int fd;
    private final InetSocketAddress local;
    private final AtomicReferenceArray<Route> routes;
    private final Thread acceptor;
    private volatile boolean closing;
    private long handoffs;

    private Listener(ServerSocketChannel channel, int slots) throws IOException {
        this.channel = channel;
        this.fd = JdkAccess.channelFd(channel);
        this.local = (InetSocketAddress) channel.getLocalAddress();
        this.routes = new AtomicReferenceArray<>(slots);
        this.acceptor = new Thread(this::acceptLoop, "sticky-listener-" + local.getPort());
        this.acceptor.setDaemon(true);
    }

    /** Binds the real socket as the application asked; the JDK's own BindException on failure. */
    static Listener open(BindRequest request, int slots) throws IOException {
        ServerSocketChannel channel = ServerSocketChannel.open(
                request.family() == 4 ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6);
        try {
            if (request.receiveBuffer() > 0) {
                channel.setOption(StandardSocketOptions.SO_RCVBUF, request.receiveBuffer());
            }
            channel.bind(new InetSocketAddress(request.address(), request.port()), BACKLOG);
            Listener listener = new Listener(channel, slots);
            log.info("listening on {}", listener.local);
            return listener;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /**
     * Accepting starts when the first worker is ready for connections; until
     * then they wait in the kernel's backlog rather than find no worker.
     */
    private synchronized void startAccepting() {
        if (acceptor.getState() == Thread.State.NEW && !closing) {
            acceptor.start();
        }
    }

    InetSocketAddress localAddress() {
        return local;
    }

    Route add(int worker, int connection) {
        Route route = new Route(this, worker, connection);
        Route previous = routes.getAndSet(worker - 1, route);
        if (previous != null) {
            previous.close();
        }
        return route;
    }

    /** Removes the route if it is still the slot's; true when no route is left. */
    boolean remove(Route route) {
        routes.compareAndSet(route.worker - 1, route, null);
        route.close();
        for (int i = 0; i < routes.length(); i++) {
            if (routes.get(i) != null) {
                return false;
            }
        }
        return true;
    }

    void close() {
        closing = true;
        // A thread blocked in accept4 does not wake when its descriptor is closed; shutdown wakes it.
        Libc.shutdown(fd, Libc.SHUT_RDWR);
        try {
            synchronized (this) {
                if (acceptor.getState() != Thread.State.NEW) {
                    acceptor.join(1000);
                }
            }
            channel.close();
        } catch (IOException e) {
            log.warn("closing listener {}: {}", local, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (int i = 0; i < routes.length(); i++) {
            Route r = routes.getAndSet(i, null);
            if (r != null) {
                r.close();
            }
        }
        log.info("closed listener on {}", local);
    }

    private void acceptLoop() {
        FdPasser passer = new FdPasser();
        try (Memory sockaddr = new Memory(Sockaddr.MAX_SIZE); Memory length = new Memory(4)) {
            while (!closing) {
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
                try {
                    dispatch(client, Sockaddr.address(sockaddr), Sockaddr.port(sockaddr), passer);
                } finally {
                    Libc.close(client); // the worker holds its own copy now
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void dispatch(int client, byte[] address, int port, FdPasser passer) {
        if (address == null) {
            return;
        }
        byte[] payload = Protocol.handoff(++handoffs, address, port);
        int slots = routes.length();
        int slot = ClientHash.slot(address, slots);
        for (int i = 0; i < slots; i++) {
            Route route = routes.get((slot + i) % slots);
            if (route == null || !route.active) {
                continue;
            }
            int errno = route.pass(passer, client, payload);
            if (errno == 0) {
                return;
            }
            log.debug("worker {} did not take a connection on {}: {}", route.worker, local, Libc.strerror(errno));
        }
        log.warn("no worker took a connection on {}; closed it", local);
    }
}
