package sticky.agent.master.listen;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import sticky.agent.common.Protocol;
import sticky.agent.common.Protocol.BindRequest;
import sticky.agent.jvm.Logs;
import sticky.agent.master.listen.SlotSockets.Role;
import sticky.agent.master.listen.SlotSockets.Socket;

/**
 * The kernel dispatches: listening sockets in a SO_REUSEPORT group
 * ({@link SlotSockets}) and a program that queues each connection on the
 * socket of its client's slot, or the next live slot's. A route's worker end
 * is a socket of the group, borrowed. Each socket has one role
 * ({@link Role}). Each slot has a home: the socket its live worker accepts
 * from, which the slot's next worker gets when no other process holds it any
 * more, so that a crashed worker's successor accepts what was queued for it,
 * and a worker that closes its server socket and binds again (as "is the
 * port free?" code does) finds its queue again. A process that starts while
 * another holds the slot's home (a rolling restart's replacement) gets
 * another socket; once its route goes live, that socket is the slot's home
 * and the old worker's gets no new connection: it drains, and once its last
 * holder is gone it is a spare, for the next socket the group needs.
 *
 * <p>No socket but the group's last is ever closed while the group is
 * routed: closing one moves the group's last socket into its index
 * (__reuseport_detach_sock), and until the program is rebuilt the clients
 * routed to that index land on the wrong socket, or past the group's end,
 * where the kernel picks one by the connection's own hash. A new slot's home
 * (the count grew) joins the group unrouted: the program counts it once the
 * lifecycle routes over one more slot.
 */
final class KernelDispatch implements Dispatch {
    private static final Logger log = Logs.get();
    /** Upgrade, in the old master: the holder of the sockets made for a new master; never a worker, never detached. */
    private static final long NEW_MASTER = -1;

    private final SlotSockets sockets;
    private Route[] live;
    /**
     * Whether this master attaches the group's program and adds to the group.
     * Not in the old master once it handed over, nor in the new one until its
     * workers serve: one master at a time, so that each knows the group's order.
     */
    private boolean steers = true;

    private KernelDispatch(SlotSockets sockets, int slots) {
        this.sockets = sockets;
        this.live = new Route[slots];
    }

    /** The slots' sockets, or null when this kernel cannot attach the program (before Linux 4.5). */
    static KernelDispatch open(BindRequest request, int slots, int backlog) throws IOException {
        SlotSockets sockets = SlotSockets.open(request, slots, backlog);
        try {
            for (int slot = 0; slot < slots; slot++) {
                sockets.initial(slot).becomes(Role.HOME, slot);
            }
            KernelDispatch dispatch = new KernelDispatch(sockets, slots);
            dispatch.steerOrFail(new Route[slots]); // before any worker: each slot's to its own socket
            return dispatch;
        } catch (IOException e) {
            log.warn("listener on {}: the kernel cannot dispatch ({}); the master does", sockets.localAddress(),
                    e.getMessage());
            sockets.close();
            return null;
        } catch (RuntimeException e) {
            sockets.close();
            throw e;
        }
    }

    /**
     * Upgrade, in the new master: the old master's group as handed, each slot's
     * home the socket made for it, the old master's sockets foreign. Nothing is
     * steered until {@link #resume}: until then the old master's program sends
     * every client to its workers.
     */
    static KernelDispatch adopt(BindRequest request, int slots, List<Handing> handed) throws IOException {
        SlotSockets sockets = SlotSockets.adopt(request, Listener.BACKLOG,
                handed.stream().map(Handing::fd).collect(java.util.stream.Collectors.toList()));
        List<Socket> group = sockets.group();
        for (int i = 0; i < group.size(); i++) {
            int slot = handed.get(i).home();
            group.get(i).becomes(slot >= 0 && slot < slots ? Role.HOME : Role.FOREIGN, slot >= 0 && slot < slots ? slot : -1);
        }
        for (int slot = 0; slot < slots; slot++) {
            if (sockets.homeOf(slot) == null) {
                sockets.close();
                throw new IOException("the old master handed no socket for some of the " + slots + " slots");
            }
        }
        KernelDispatch dispatch = new KernelDispatch(sockets, slots);
        dispatch.steers = false;
        return dispatch;
    }

    @Override
    public InetSocketAddress localAddress() {
        return sockets.localAddress();
    }

    @Override
    public String name() {
        return sockets.name();
    }

    @Override
    public String kind() {
        return "kernel";
    }

    @Override
    public boolean byKernel() {
        return true;
    }

    @Override
    public int attach(int slot, long pid) throws IOException {
        Socket home = homeFor(slot);
        // A master that does not steer adds nothing to the group: a successor shares the home with what is left of the dead.
        Socket socket = !steers || home.holders.stream().allMatch(p -> p == pid) ? home : another();
        socket.holders.add(pid);
        return socket.fd;
    }

    /** Slot's home; for a slot that has none yet (the count grew), a socket that becomes it, unrouted. */
    private Socket homeFor(int slot) throws IOException {
        Socket home = sockets.homeOf(slot);
        if (home == null) {
            home = another();
            home.becomes(Role.HOME, slot);
        }
        return home;
    }

    /** A socket for the group to give: an idle spare, else a new one at the group's end. */
    private Socket another() throws IOException {
        for (Socket socket : sockets.group()) {
            if (socket.role == Role.SPARE && socket.holders.isEmpty() && sockets.queued(socket) == 0) {
                socket.becomes(Role.HELD, -1);
                return socket;
            }
        }
        return sockets.add();
    }

    @Override
    public void steer(Route[] live) {
        try {
            steerOrFail(live);
        } catch (IOException e) {
            log.error("listener {}: {}", sockets.localAddress(), e.getMessage());
        }
    }

    /**
     * A live slot's clients go to its worker's socket, which is its home from
     * then on (the one it had is then only held, by whoever still holds it);
     * a slot without a live worker's go to the next live slot's home, and with
     * no slot live, each slot's wait on its home.
     */
    private void steerOrFail(Route[] live) throws IOException {
        this.live = live;
        int slots = live.length;
        boolean[] alive = new boolean[slots];
        for (int slot = 0; slot < slots; slot++) {
            alive[slot] = live[slot] != null;
            Socket socket = alive[slot] ? sockets.find(live[slot].workerEnd) : null;
            if (socket != null && !socket.isHomeOf(slot)) {
                Socket old = sockets.homeOf(slot);
                if (old != null) {
                    old.becomes(Role.HELD, -1);
                }
                socket.becomes(Role.HOME, slot);
            }
        }
        if (!steers) {
            return;
        }
        Socket sink = sockets.first(Role.SINK);
        int[] next = NextLive.targets(alive);
        Socket[] target = new Socket[slots];
        for (int slot = 0; slot < slots; slot++) {
            target[slot] = sink != null ? sink : homeFor(next[slot] < 0 ? slot : next[slot]);
        }
        sockets.route(target);
    }

    @Override
    public int queued(Route route) {
        Socket socket = sockets.find(route.workerEnd);
        return socket == null ? 0 : sockets.queued(socket);
    }

    /**
     * Nothing to take back: no handoff channel reaches a worker here. A home
     * keeps what is queued on it for the slot's next worker; another socket
     * whose last holder is gone (a drained worker's, a failed replacement's)
     * is done with (see {@link #release}).
     */
    @Override
    public void detach(Route route, boolean handOn) {
        Socket socket = sockets.find(route.workerEnd);
        if (socket == null || !socket.holders.remove(Long.valueOf(route.pid)) || !socket.holders.isEmpty()
                || socket.role == Role.HOME) {
            return;
        }
        release(socket);
    }

    /** The slot's home, which nobody holds any more (the count shrank past it), is done with too. */
    @Override
    public void removeSlot(int slot) {
        Socket home = sockets.homeOf(slot);
        if (home != null) {
            home.becomes(Role.HELD, -1);
            if (home.holders.isEmpty()) {
                release(home);
            }
        }
    }

    /**
     * A socket nobody holds and no slot routes to: the group's last leaves
     * it; any other stays, a spare, so that no socket moves under the
     * program. What it still holds (its worker left before it took them) is
     * closed, one connection at a time, the socket kept.
     */
    private void release(Socket socket) {
        int lost = sockets.dropQueued(socket);
        if (lost > 0) {
            log.warn("listener {}: {} connection(s) queued for a worker that is gone were closed", localAddress(), lost);
        }
        if (!sockets.isLast(socket)) {
            socket.becomes(Role.SPARE, -1);
            return;
        }
        try {
            sockets.close(socket);
        } catch (IOException e) {
            log.error("listener {}: {}", sockets.localAddress(), e.getMessage());
        }
    }

    /**
     * No worker gets a new connection any more: they all go to a socket of
     * the group that nobody accepts from (the sink), so that the workers can
     * finish what they have. (Closing the master's copies would not do: each
     * worker's socket would stay in the group, and get connections, until the
     * worker exits; shutting a listening socket down would fail the worker's
     * accept.) The master keeps every socket, so the group's order stays
     * known, until {@link #close}.
     */
    @Override
    public void stopAccepting() {
        if (sockets.first(Role.SINK) != null || !steers) {
            return; // handed over (the new master dispatches), or not yet taken over (the old master does)
        }
        try {
            another().becomes(Role.SINK, -1);
            steerOrFail(live);
        } catch (IOException e) {
            log.warn("stopping listener {}: {}", sockets.localAddress(), e.toString());
        }
    }

    /**
     * The whole group, with a socket at its end for each slot of the new
     * master (a spare, or a new one), which this master holds too until it
     * exits, and never gives a worker.
     */
    @Override
    public List<Handing> handOver(int newSlots) throws IOException {
        List<Socket> added = new ArrayList<>();
        for (int slot = 0; slot < newSlots; slot++) {
            Socket socket = another();
            socket.holders.add(NEW_MASTER);
            added.add(socket);
        }
        List<Handing> handed = new ArrayList<>();
        for (Socket socket : sockets.group()) {
            handed.add(new Handing(Protocol.KERNEL, socket.fd, added.indexOf(socket)));
        }
        return handed;
    }

    @Override
    public void handedOver() {
        steers = false;
    }

    @Override
    public void resume() {
        steers = true;
        steer(live);
    }

    /**
     * The old master's sockets are this master's alone now: spares for the
     * next upgrade (closing them would move the group's last socket into
     * their place while the program still points at it: a test whose old
     * master was killed lost connections that way after every client had
     * reached a new worker). What one still holds (its workers left before
     * they took it) is closed, one connection at a time.
     */
    @Override
    public void releaseForeign() {
        for (Socket socket : sockets.group()) {
            if (socket.role != Role.FOREIGN) {
                continue;
            }
            int lost = sockets.dropQueued(socket);
            if (lost > 0) {
                log.warn("listener {}: {} connection(s) queued for the old master's workers were closed",
                        localAddress(), lost);
            }
            socket.becomes(Role.SPARE, -1);
        }
    }

    /** Closes the master's copies: each worker's stays open until its application closes it or it exits. */
    @Override
    public void close() {
        try {
            sockets.close();
        } catch (IOException e) {
            log.warn("closing listener {}: {}", sockets.localAddress(), e.toString());
        }
    }
}
