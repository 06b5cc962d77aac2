package sticky.agent.master.listen;

import com.sun.jna.Memory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.slf4j.Logger;
import sticky.agent.common.ClientHash;
import sticky.agent.common.IpAddresses;
import sticky.agent.common.Protocol;
import sticky.agent.jvm.Logs;
import sticky.agent.master.listen.HandoffChannel.Unaccepted;
import sticky.agent.master.listen.Peeker.Pending;
import sticky.agent.route.Router;
import sticky.agent.unix.FdPasser;
import sticky.agent.unix.Libc;
import sticky.agent.unix.Sockaddr;

/**
 * The master dispatches: its thread accepts, hashes the client address to a
 * slot and passes the socket to that slot's live worker (or the next live
 * one's, while the slot has none) over its {@link HandoffChannel}; it never
 * reads a byte of the connection. A worker slow to take its connections gets
 * them later, in order ({@link HandoffQueue}): a client is never moved to
 * another worker, nor closed, because its own is slow. With no live worker
 * at all, or {@link HandoffQueue#LIMIT} connections waiting, it stops
 * accepting and connections wait in the kernel's backlog. The accept thread
 * reads only an immutable snapshot of the live slots, which {@link #steer}
 * replaces whole; where it is (accepting, waiting, paused) is its {@link AcceptGate}.
 */
final class MasterDispatch implements Dispatch {
    private static final Logger log = Logs.get();

    /** What a thread needs to hand sockets over without allocating: native buffers, a payload buffer. */
    private static final class Sender {
        final FdPasser passer = new FdPasser();
        final byte[] payload = new byte[Protocol.MAX_HANDOFF];
    }

    private static final long SAY_FULL_EVERY_NS = 60_000_000_000L;
    private static final ThreadLocal<Sender> SENDERS = ThreadLocal.withInitial(Sender::new);

    /** The live slots: each slot's channel (null: no live worker) and where its clients go. */
    private record Live(HandoffChannel[] channels, int[] target) {}

    private final ListeningSocket listening;
    private final int fd;
    private final InetSocketAddress local;
    private final AtomicLongArray dispatched;
    private final Router router;
    private final Peeker peeker;
    private final Thread acceptor;
    private final HandoffQueue waiting;
    /** The last time the accept thread had to wait for room: it says so at most once a minute. */
    private long saidFull = System.nanoTime() - SAY_FULL_EVERY_NS;
    private final AtomicLong roundRobin = new AtomicLong();
    /** Each route's channel, by the worker end's descriptor number; on the master's loop only. */
    private final Map<Integer, HandoffChannel> channels = new HashMap<>();
    private volatile Live live;
    private final AcceptGate gate;

    MasterDispatch(ListeningSocket listening, AtomicLongArray dispatched, Router router) {
        this(listening, dispatched, router, false);
    }

    /** paused: an old master's socket, accepted from once this master takes over ({@link #resume}). */
    MasterDispatch(ListeningSocket listening, AtomicLongArray dispatched, Router router, boolean paused) {
        this.listening = listening;
        this.gate = new AcceptGate(paused);
        this.fd = listening.fd;
        this.local = listening.local;
        this.dispatched = dispatched;
        this.router = router;
        this.live = new Live(new HandoffChannel[0], new int[0]);
        this.peeker = router.mode() != Router.Mode.PROXY && router.mode() != Router.Mode.HEADER ? null
                : new Peeker(router, this::route, "sticky-peeker-" + local.getPort());
        this.waiting = new HandoffQueue("sticky-handoff-" + local.getPort(), this::roomMade);
        this.acceptor = new Thread(this::acceptLoop, "sticky-listener-" + local.getPort());
        this.acceptor.setDaemon(true);
        this.acceptor.start();
    }

    @Override
    public InetSocketAddress localAddress() {
        return local;
    }

    @Override
    public String name() {
        return IpAddresses.hostPort(local);
    }

    @Override
    public String kind() {
        return "master";
    }

    @Override
    public boolean byKernel() {
        return false;
    }

    @Override
    public int attach(int slot, long pid) throws IOException {
        HandoffChannel handoff = new HandoffChannel();
        channels.put(handoff.workerEnd, handoff);
        return handoff.workerEnd;
    }

    @Override
    public void steer(Route[] routes) {
        HandoffChannel[] bySlot = new HandoffChannel[routes.length];
        boolean[] alive = new boolean[routes.length];
        for (int i = 0; i < routes.length; i++) {
            bySlot[i] = routes[i] == null ? null : channels.get(routes[i].workerEnd);
            alive[i] = bySlot[i] != null;
        }
        live = new Live(bySlot, NextLive.targets(alive));
        gate.changed(); // the accept thread may be waiting for a live worker
    }

    @Override
    public int queued(Route route) {
        HandoffChannel handoff = channels.get(route.workerEnd);
        return handoff == null ? 0 : handoff.queuedBytes() + handoff.waiting();
    }

    @Override
    public void detach(Route route, boolean handOn) {
        HandoffChannel handoff = channels.remove(route.workerEnd);
        if (handoff == null) {
            return;
        }
        List<Unaccepted> unaccepted = handoff.close();
        roomMade(); // what waited for this worker waits no more
        if (handOn) {
            redispatch(unaccepted, route.slot);
        } else {
            unaccepted.forEach(u -> Libc.close(u.fd())); // no worker is left to take them
        }
    }

    /**
     * Hands sockets a worker of slot never accepted to the slot's live worker
     * now, or the next live one; a slot no longer routed (the count shrank)
     * gives each to the slot its peer is routed to now.
     */
    private void redispatch(List<Unaccepted> connections, int slot) {
        for (Unaccepted u : connections) {
            int count = live.channels().length;
            // a Handoff is 'C', the address's length, the address, the port (Protocol.handoff)
            int to = slot < count ? slot : count == 0 ? 0 : ClientHash.slot(Arrays.copyOfRange(u.payload(), 2,
                    2 + u.payload()[1]), count);
            if (!dispatch(u.fd(), u.payload(), u.payload().length, to, SENDERS.get().passer)) {
                log.warn("a connection to {} was lost with its worker: no other worker took it", local);
                Libc.close(u.fd());
            }
        }
        if (!connections.isEmpty()) {
            log.info("handed {} unaccepted connection(s) to {} to other workers", connections.size(), local);
        }
    }

    @Override
    public void stopAccepting() {
        AcceptGate.State was = gate.close();
        if (was == AcceptGate.State.CLOSING) {
            return; // never twice: the descriptor number may belong to another socket by now
        }
        if (AcceptGate.inAccept(was)) {
            wakeAcceptor();
        }
        try {
            acceptor.join(1000);
            if (peeker != null) {
                peeker.close();
            }
            listening.close(); // the handoff queue goes on: the workers finish what waits for them too
        } catch (IOException e) {
            log.warn("closing listener {}: {}", local, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Wakes the accept thread out of accept4 (see {@link ListeningSocket#wakeAccept}) and waits until it is out. */
    private void wakeAcceptor() {
        listening.wakeAccept(() -> gate.awaitOutOfAccept(acceptor, 1000));
    }

    @Override
    public List<Handing> handOver(int slots) {
        listening.share();
        return List.of(new Handing(Protocol.MASTER, fd, -1));
    }

    /** The accept thread leaves accept4 and waits; the socket stays as it is, for the new master. */
    @Override
    public void handedOver() {
        if (gate.pause() == AcceptGate.State.ACCEPTING) {
            wakeAcceptor(); // PAUSING now: the thread leaves accept4 and waits
        }
    }

    @Override
    public void resume() {
        gate.resume();
    }

    @Override
    public void close() {
        stopAccepting();
        for (HandoffChannel handoff : channels.values()) {
            handoff.close().forEach(u -> Libc.close(u.fd()));
        }
        channels.clear();
        waiting.close();
        steer(new Route[live.channels().length]);
    }

    /** Whether some slot has a live worker (where no slot has one, every target is -1). */
    private boolean anyLive() {
        int[] target = live.target();
        return target.length > 0 && target[0] >= 0;
    }

    private void roomMade() {
        gate.changed();
    }

    /** Before every accept: waits while paused, no worker is live or the handoff queue is full. False once closed. */
    private boolean awaitRoom() throws InterruptedException {
        return gate.awaitOpen(() -> anyLive() && !waiting.full(), () -> {
            if (anyLive() && System.nanoTime() - saidFull >= SAY_FULL_EVERY_NS) {
                saidFull = System.nanoTime();
                log.warn("{} connections to {} wait in the master for workers slow to take them; "
                        + "accepting no more until they do (new ones wait in the kernel's backlog)", waiting.count(), local);
            }
        });
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
            while (awaitRoom()) {
                length.setInt(0, Sockaddr.MAX_SIZE);
                int client = Libc.accept4(fd, sockaddr, length, Libc.SOCK_CLOEXEC);
                if (client < 0) {
                    int errno = Libc.errno();
                    if (gate.closing()) {
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
                if (listening.isWakeUp(port) && !gate.accepting()) {
                    Libc.close(client); // this master's own, to wake this thread
                    continue;
                }
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
     * one); closes it if no worker is live. client is the TCP peer, or the
     * client a trusted proxy named; the Handoff reports the TCP peer.
     */
    private void route(int fd, byte[] peer, int peerLength, int port, byte[] client, int clientLength) {
        Sender sender = SENDERS.get();
        int payloadLength = Protocol.handoff(peer, peerLength, port, sender.payload);
        int slots = live.channels().length;
        if (slots == 0) {
            log.warn("no live worker for a connection on {}; closed it", local);
            Libc.close(fd);
            return;
        }
        int slot = router.mode() == Router.Mode.ROUND_ROBIN ? (int) (roundRobin.getAndIncrement() % slots)
                : ClientHash.slot(client, clientLength, slots);
        if (!dispatch(fd, sender.payload, payloadLength, slot, sender.passer)) {
            log.warn("no live worker for a connection on {}; closed it", local);
            Libc.close(fd);
        }
    }

    /**
     * Gives the socket to the live worker slot's clients go to: sent to it
     * now, or left waiting for room in its queue (never given to another
     * worker because that one is slow). Once given, the master's own copy is
     * closed or held by the channel, which can give it back (see
     * {@link HandoffChannel}). False only when no worker is live.
     */
    private boolean dispatch(int fd, byte[] payload, int payloadLength, int slot, FdPasser passer) {
        while (true) {
            Live now = live;
            int[] target = now.target();
            if (target.length == 0) {
                return false;
            }
            // A count that shrank since the slot was picked: once, the slot it folds onto.
            int s = target[slot < target.length ? slot : slot % target.length];
            if (s < 0) {
                return false;
            }
            HandoffChannel handoff = now.channels()[s];
            int result = handoff.offer(passer, fd, payload, payloadLength);
            if (result == HandoffChannel.SENT || result == HandoffChannel.WAITING) {
                if (result == HandoffChannel.WAITING) {
                    waiting.waiting(handoff);
                }
                dispatched.incrementAndGet(s);
                return true;
            }
            if (live == now) { // not closed by a steer since the snapshot: the pair itself refuses
                log.warn("worker {} did not take a connection on {}: {}", s + 1, local, Libc.strerror(result));
                return false;
            }
        }
    }
}
