package sticky.agent.master;

import com.sun.jna.Memory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.slf4j.Logger;
import sticky.agent.common.ClientHash;
import sticky.agent.JdkAccess;
import sticky.agent.Logs;
import sticky.agent.common.Protocol;
import sticky.agent.common.Protocol.BindRequest;
import sticky.agent.route.Router;
import sticky.agent.unix.FdPasser;
import sticky.agent.unix.Libc;
import sticky.agent.unix.Sockaddr;
import sticky.agent.unix.UnixSocket;

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
    /** What a thread needs to hand sockets over without allocating: native buffers, a payload buffer. */
    private static final class Sender {
        final FdPasser passer = new FdPasser();
        final byte[] payload = new byte[Protocol.MAX_HANDOFF];
    }

    private static final ThreadLocal<Sender> SENDERS = ThreadLocal.withInitial(Sender::new);

    /** An accepted connection waiting to be handed over: its descriptor and its TCP peer. */
    record Pending(int fd, byte[] address, int port) {}

    /** A socket handed to a worker that never accepted it, taken back with its Handoff message. */
    record Unaccepted(int fd, byte[] payload) {}

    /**
     * One worker process's server socket on this listener. The master sends
     * sockets on its end of a socket pair and closes its own copy at once; it
     * also keeps the worker's end open, so that what is still queued there
     * when the worker closes its server socket or dies is not lost with it but
     * taken back and handed to another worker. The worker's bind connection
     * (the lifeline) carries nothing after the bind answer: its end says the
     * server socket is closed or the worker is gone.
     */
    static final class Route {
        final Listener listener;
        final int worker;
        final long pid;
        final int lifeline;
        private final int sender;
        /** The worker's end of the pair: sent to it with the bind answer, and kept. */
        final int workerEnd;
        private boolean closed;
        /** The worker has its bind answer. */
        volatile boolean answered;

        Route(Listener listener, int worker, long pid, int lifeline, int[] pair) {
            this.listener = listener;
            this.worker = worker;
            this.pid = pid;
            this.lifeline = lifeline;
            this.sender = pair[0];
            this.workerEnd = pair[1];
        }

        /** A route of a listener the kernel dispatches: the worker gets its slot's listening socket. */
        Route(Listener listener, int worker, long pid, int lifeline, int slotSocket) {
            this(listener, worker, pid, lifeline, new int[] {-1, slotSocket});
        }

        /** Sends the socket without blocking. Returns 0 or the errno (EAGAIN: the worker's queue is full). */
        synchronized int pass(FdPasser passer, int fd, byte[] payload, int length) {
            // Under the lock so that close() cannot free the descriptor number mid-send.
            return closed ? Libc.EPIPE : passer.send(sender, fd, payload, length);
        }

        /** Closes the route, once; returns the sockets queued to the worker that it never accepted. */
        synchronized List<Unaccepted> close() {
            if (closed) {
                return List.of(); // never twice: the numbers may belong to other descriptors by now
            }
            closed = true;
            if (sender < 0) {
                Libc.close(lifeline); // the slot's socket is the listener's, and so is what is queued on it
                return List.of();
            }
            Libc.close(sender);
            List<Unaccepted> unaccepted = new ArrayList<>();
            FdPasser passer = new FdPasser();
            FdPasser.Received received = new FdPasser.Received();
            byte[] payload = new byte[FdPasser.MAX_PAYLOAD];
            while (true) {
                // The sender is closed: this ends at the end of the queue with 0 (or EAGAIN), never blocks.
                passer.receive(workerEnd, payload, received, Libc.MSG_DONTWAIT);
                if (received.length <= 0) {
                    break;
                }
                if (received.fd >= 0) {
                    unaccepted.add(new Unaccepted(received.fd, Arrays.copyOf(payload, (int) received.length)));
                }
            }
            Libc.close(workerEnd);
            Libc.close(lifeline);
            return unaccepted;
        }
    }

    /** The listening socket the master accepts on, or null when the kernel dispatches. */
    private final ServerSocketChannel channel;
    private final int fd;
    /** The slots' listening sockets when the kernel dispatches, or null. */
    private final SlotSockets slotSockets;
    private final InetSocketAddress local;
    private final List<Route> routes = new ArrayList<>();
    /** The route each slot's connections go to; replaced whole, read without a lock. */
    private volatile Route[] live;
    private final AtomicLong roundRobin = new AtomicLong();
    private final AtomicLongArray dispatched;
    private final Thread acceptor;
    private final Router router;
    private final Peeker peeker;
    private volatile boolean closing;

    private Listener(ServerSocketChannel channel, AtomicLongArray dispatched, Router router) throws IOException {
        this.channel = channel;
        this.slotSockets = null;
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

    private Listener(SlotSockets slotSockets, AtomicLongArray dispatched, Router router) {
        this.channel = null;
        this.slotSockets = slotSockets;
        this.dispatched = dispatched;
        this.router = router;
        this.fd = -1;
        this.local = slotSockets.localAddress();
        this.live = new Route[dispatched.length()];
        this.acceptor = null;
        this.peeker = null;
    }

    /**
     * Binds the real socket(s) as the application asked; the JDK's own
     * BindException on failure. With kernel dispatch (by client address only)
     * one socket per slot, unless the application shares the port itself with
     * SO_REUSEPORT: its sockets and the slots' would be one reuseport group.
     */
    static Listener open(BindRequest request, AtomicLongArray dispatched, Router router, boolean kernelDispatch)
            throws IOException {
        if (kernelDispatch && router.mode() == Router.Mode.IP && !request.reusePort()) {
            SlotSockets sockets = SlotSockets.open(request, dispatched.length(), BACKLOG);
            try {
                sockets.route(new boolean[dispatched.length()]); // before any worker: each slot's to its own
                Listener listener = new Listener(sockets, dispatched, router);
                log.info("listening on {}, dispatched by the kernel", listener.local);
                return listener;
            } catch (IOException e) {
                // A kernel without SO_ATTACH_REUSEPORT_CBPF (before 4.5): the master dispatches instead.
                log.warn("listener on {}: the kernel cannot dispatch ({}); the master does", sockets.localAddress(),
                        e.getMessage());
                sockets.close();
            } catch (RuntimeException e) {
                sockets.close();
                throw e;
            }
        }
        // With SO_REUSEPORT the application binds this port more than once (one listener per index
        // here), as it may without sticky; the kernel spreads connections over the listeners.
        ServerSocketChannel channel = bind(request, request.port(), request.reusePort(), BACKLOG);
        try {
            Listener listener = new Listener(channel, dispatched, router);
            listener.acceptor.start();
            log.info("listening on {}", listener.local);
            return listener;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** A listening channel bound as the request asks, on port, with SO_REUSEPORT or not. */
    static ServerSocketChannel bind(BindRequest request, int port, boolean reusePort, int backlog) throws IOException {
        ServerSocketChannel channel = ServerSocketChannel.open(
                request.family() == 4 ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6);
        try {
            if (request.receiveBuffer() > 0) {
                channel.setOption(StandardSocketOptions.SO_RCVBUF, request.receiveBuffer());
            }
            channel.setOption(StandardSocketOptions.SO_REUSEPORT, reusePort);
            channel.bind(new InetSocketAddress(request.address(), port), backlog);
            return channel;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    InetSocketAddress localAddress() {
        return local;
    }

    /** Whether workers accept from their slot's socket themselves. */
    boolean dispatchedByKernel() {
        return slotSockets != null;
    }

    synchronized Route add(int worker, long pid, int lifeline) throws IOException {
        Route route = slotSockets != null ? new Route(this, worker, pid, lifeline, slotSockets.fd(worker - 1))
                : new Route(this, worker, pid, lifeline, UnixSocket.pair());
        routes.add(route);
        return route;
    }

    /** Makes route its slot's live route, once its worker has the bind answer. */
    synchronized void goLive(Route route) {
        if (route.answered && routes.contains(route)) {
            Route[] next = live.clone();
            next[route.worker - 1] = route;
            live = next;
            reroute();
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

    /** Removes the route; returns the sockets queued to its worker that it never accepted. */
    synchronized List<Unaccepted> remove(Route route) {
        routes.remove(route);
        retire(route);
        return route.close();
    }

    /** The route's slot sends its clients elsewhere (the next live slot), if the route was live. */
    synchronized void retire(Route route) {
        if (live[route.worker - 1] == route) {
            Route[] next = live.clone();
            next[route.worker - 1] = null;
            live = next;
            reroute();
        }
    }

    /** With kernel dispatch, tells the kernel which slots have a live worker now. */
    private void reroute() {
        if (slotSockets == null) {
            return;
        }
        boolean[] alive = new boolean[live.length];
        List<Integer> slots = new ArrayList<>();
        for (int i = 0; i < alive.length; i++) {
            alive[i] = live[i] != null;
            if (alive[i]) {
                slots.add(i + 1);
            }
        }
        log.debug("listener {}: slots with a live worker: {}", local, slots);
        try {
            slotSockets.route(alive);
        } catch (IOException e) {
            log.error("listener {}: {}", local, e.getMessage());
        }
    }

    /**
     * Hands sockets a worker of slot never accepted to that slot's live route
     * now (a replacement), or the next live one; closes what no worker takes.
     */
    void redispatch(List<Unaccepted> connections, int slot) {
        for (Unaccepted u : connections) {
            if (!dispatch(u.fd(), u.payload(), u.payload().length, slot, SENDERS.get().passer)) {
                log.warn("a connection to {} was lost with its worker: no other worker took it", local);
                Libc.close(u.fd());
            }
        }
        if (!connections.isEmpty()) {
            log.info("handed {} unaccepted connection(s) to {} to other workers", connections.size(), local);
        }
    }

    /**
     * Stops accepting and closes the listening socket, once; the workers'
     * routes stay, so their server sockets stay as they were (a blocked accept
     * stays blocked, as it would without sticky) until {@link #close}.
     */
    void stopAccepting() {
        synchronized (this) {
            if (closing) {
                return; // never twice: the descriptor number may belong to another socket by now
            }
            closing = true;
            notifyAll();
        }
        if (slotSockets != null) {
            // Only the master's copies: each worker's stays open until its application closes it,
            // so that, as without sticky, a blocked accept stays blocked and accepts go on meanwhile.
            try {
                slotSockets.close();
            } catch (IOException e) {
                log.warn("closing listener {}: {}", local, e.toString());
            }
            log.info("closed listener on {}", local);
            return;
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
        log.info("closed listener on {}", local);
    }

    /** Stops accepting, and closes every route with what is still queued on it. */
    void close() {
        stopAccepting();
        List<Route> all;
        synchronized (this) {
            all = new ArrayList<>(routes);
            routes.clear();
            live = new Route[live.length];
        }
        for (Route r : all) {
            for (Unaccepted u : r.close()) {
                Libc.close(u.fd());
            }
        }
    }

    /** Called before every accept: a plain loop, no allocation. */
    private synchronized boolean awaitLiveRoute() throws InterruptedException {
        while (!closing && !anyLive()) {
            wait();
        }
        return !closing;
    }

    private boolean anyLive() {
        for (Route route : live) {
            if (route != null) {
                return true;
            }
        }
        return false;
    }

    /**
     * Accepts, hashes and hands over, allocating nothing per connection (so
     * that the master, under any load, does not grow its heap): the peer is
     * read into one buffer and the Handoff written into another. Connections
     * from a trusted proxy, whose first bytes name the client, go to the
     * {@link Peeker} instead.
     */
    private void acceptLoop() {
        byte[] peekBuffer = peeker == null ? null : new byte[router.window()];
        byte[] peer = new byte[16];
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
                int peerLength = Sockaddr.address(sockaddr, peer);
                if (peerLength == 0) {
                    Libc.close(client);
                    continue;
                }
                int port = Sockaddr.port(sockaddr);
                if (peeker != null) {
                    byte[] address = Arrays.copyOf(peer, peerLength);
                    if (router.peeks(address)) {
                        peeker.route(new Pending(client, address, port), peekBuffer);
                        continue;
                    }
                }
                route(client, peer, peerLength, port, peer, peerLength);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Routes a connection the Peeker has read the client of. */
    private void route(Pending connection, byte[] client) {
        byte[] peer = connection.address();
        route(connection.fd(), peer, peer.length, connection.port(), client, client.length);
    }

    /**
     * Hands the connection to the worker of client's slot (or the next live
     * one); closes it if none takes it. client is the TCP peer, or the client
     * a trusted proxy named; the Handoff reports the TCP peer.
     */
    private void route(int fd, byte[] peer, int peerLength, int port, byte[] client, int clientLength) {
        Sender sender = SENDERS.get();
        int payloadLength = Protocol.handoff(peer, peerLength, port, sender.payload);
        int slot = router.mode() == Router.Mode.ROUND_ROBIN ? (int) (roundRobin.getAndIncrement() % dispatched.length())
                : ClientHash.slot(client, clientLength, dispatched.length());
        if (!dispatch(fd, sender.payload, payloadLength, slot, sender.passer)) {
            log.warn("no worker took a connection on {}; closed it", local);
            Libc.close(fd);
        }
    }

    /**
     * Sends the socket to slot's live route, or the next live one that takes
     * it. Once sent, the master's own copy is closed: the worker's queue holds
     * it now, and the master can take it back from there (see {@link Route}).
     */
    private boolean dispatch(int fd, byte[] payload, int payloadLength, int slot, FdPasser passer) {
        Route[] routes = live;
        for (int i = 0; i < routes.length; i++) {
            Route route = routes[(slot + i) % routes.length];
            if (route == null) {
                continue;
            }
            int errno = route.pass(passer, fd, payload, payloadLength);
            if (errno == 0) {
                Libc.close(fd);
                dispatched.incrementAndGet(route.worker - 1);
                return true;
            }
            log.debug("worker {} did not take a connection on {}: {}", route.worker, local, Libc.strerror(errno));
        }
        return false;
    }
}
