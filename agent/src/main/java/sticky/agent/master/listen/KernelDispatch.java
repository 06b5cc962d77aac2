package sticky.agent.master.listen;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import sticky.agent.Logs;
import sticky.agent.common.Protocol.BindRequest;
import sticky.agent.master.listen.SlotSockets.Socket;

/**
 * The kernel dispatches: listening sockets in a SO_REUSEPORT group
 * ({@link SlotSockets}) and a program that queues each connection on the
 * socket of its client's slot, or the next live slot's. A route's worker end
 * is a socket of the group, borrowed. Each slot has a home socket: the one
 * its live worker accepts from, which the slot's next worker gets when no
 * other process holds it any more, so that a crashed worker's successor
 * accepts what was queued for it, and a worker that closes its server socket
 * and binds again (as "is the port free?" code does) finds its queue again.
 * A process that starts while another holds the slot's socket (a rolling
 * restart's replacement) gets a new socket, and once it goes live the old
 * worker's socket gets no new connection: it drains, and closes when its
 * last holder is gone.
 */
final class KernelDispatch implements Dispatch {
    private static final Logger log = Logs.get();

    private final SlotSockets sockets;
    private final Socket[] home;
    /** The socket behind each route's worker end (descriptor numbers are unique while open), and its holders' pids. */
    private final Map<Integer, Socket> byEnd = new HashMap<>();
    private final Map<Socket, List<Long>> holders = new HashMap<>();
    private Route[] live;
    /** Once the listener stopped accepting: where every new connection waits, never accepted, until the master exits. */
    private Socket sink;
    /**
     * Whether this master attaches the group's program and adds to the group.
     * Not in the old master once it handed over, nor in the new one until its
     * workers serve: one master at a time, so that each knows the group's order.
     */
    private boolean steers = true;
    /** Upgrade, in the new master: the old master's sockets, untouched until it and its workers are gone. */
    private final List<Socket> foreign = new ArrayList<>();
    /**
     * Upgrade: sockets of the group nobody holds but this master, idle (no
     * program sends them anything), which the next upgrade gives the next
     * master's slots. Closing them would move the group's last socket into
     * their place while the program still points at it (see
     * {@link SlotSockets}): with two sets used in turn, the group never
     * shrinks or grows at an upgrade, and nothing moves.
     */
    private final List<Socket> spare = new ArrayList<>();
    /** Upgrade, in the old master: who holds the sockets made for a new master; never a worker's, never closed by a detach. */
    private static final long NEW_MASTER = -1;

    private KernelDispatch(SlotSockets sockets, Socket[] home) {
        this.sockets = sockets;
        this.home = home;
        this.live = new Route[home.length];
    }

    private static Socket[] initialHomes(SlotSockets sockets, int slots) {
        Socket[] home = new Socket[slots];
        for (int slot = 0; slot < slots; slot++) {
            home[slot] = sockets.initial(slot);
        }
        return home;
    }

    /**
     * Upgrade, in the new master: the old master's group as handed, each slot's
     * home the socket made for it. Nothing is steered until {@link #resume}:
     * until then the old master's program sends every client to its workers.
     */
    static KernelDispatch adopt(BindRequest request, int slots, List<Handing> handed) throws IOException {
        SlotSockets sockets = SlotSockets.adopt(request, Listener.BACKLOG,
                handed.stream().map(Handing::fd).collect(java.util.stream.Collectors.toList()));
        List<Socket> group = sockets.group();
        Socket[] home = new Socket[slots];
        List<Socket> foreign = new ArrayList<>();
        for (int i = 0; i < group.size(); i++) {
            int slot = handed.get(i).home();
            if (slot >= 0 && slot < slots) {
                home[slot] = group.get(i);
            } else {
                foreign.add(group.get(i));
            }
        }
        if (java.util.Arrays.asList(home).contains(null)) {
            sockets.close();
            throw new IOException("the old master handed no socket for some of the " + slots + " slots");
        }
        KernelDispatch dispatch = new KernelDispatch(sockets, home);
        dispatch.steers = false;
        dispatch.foreign.addAll(foreign);
        return dispatch;
    }

    /** The slots' sockets, or null when this kernel cannot attach the program (before Linux 4.5). */
    static KernelDispatch open(BindRequest request, int slots, int backlog) throws IOException {
        SlotSockets sockets = SlotSockets.open(request, slots, backlog);
        try {
            KernelDispatch dispatch = new KernelDispatch(sockets, initialHomes(sockets, slots));
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

    @Override
    public InetSocketAddress localAddress() {
        return sockets.localAddress();
    }

    @Override
    public String name() {
        return sockets.name();
    }

    @Override
    public boolean byKernel() {
        return true;
    }

    @Override
    public int attach(int slot, long pid) throws IOException {
        List<Long> held = holders.getOrDefault(home[slot], List.of());
        // A master that does not steer adds nothing to the group: a successor shares the home with what is left of the dead.
        Socket socket = !steers || held.stream().allMatch(p -> p == pid) ? home[slot] : sockets.add();
        holders.computeIfAbsent(socket, s -> new ArrayList<>()).add(pid);
        byEnd.put(socket.fd, socket);
        return socket.fd;
    }

    @Override
    public void steer(Route[] live) {
        try {
            steerOrFail(live);
        } catch (IOException e) {
            log.error("listener {}: {}", sockets.localAddress(), e.getMessage());
        }
    }

    /** A live slot's clients go to its worker's socket; with no slot live, each slot's wait on its home socket. */
    private void steerOrFail(Route[] live) throws IOException {
        this.live = live;
        boolean[] alive = new boolean[live.length];
        for (int slot = 0; slot < live.length; slot++) {
            alive[slot] = live[slot] != null;
            if (alive[slot]) {
                home[slot] = byEnd.get(live[slot].workerEnd);
            }
        }
        if (!steers) {
            return;
        }
        int[] next = NextLive.targets(alive);
        Socket[] target = new Socket[live.length];
        for (int slot = 0; slot < live.length; slot++) {
            target[slot] = sink != null ? sink : home[next[slot] < 0 ? slot : next[slot]];
        }
        sockets.route(target);
    }

    @Override
    public int queued(Route route) {
        Socket socket = byEnd.get(route.workerEnd);
        return socket == null ? 0 : sockets.queued(socket);
    }

    /**
     * Nothing to take back: no handoff channel reaches a worker here. A home
     * socket keeps what is queued on it for the slot's next worker; another
     * socket whose last holder is gone (a drained worker's, a failed
     * replacement's) leaves the group.
     */
    @Override
    public void detach(Route route, boolean handOn) {
        Socket socket = byEnd.get(route.workerEnd);
        List<Long> held = socket == null ? null : holders.get(socket);
        if (held == null) {
            return;
        }
        held.remove(Long.valueOf(route.pid));
        if (!held.isEmpty()) {
            return;
        }
        holders.remove(socket);
        for (Socket h : home) {
            if (h == socket) {
                return;
            }
        }
        byEnd.remove(socket.fd);
        int lost = sockets.queued(socket);
        if (lost > 0) {
            log.warn("listener {}: {} connection(s) queued for a worker that is gone were closed", localAddress(), lost);
        }
        try {
            sockets.close(socket);
            steerOrFail(live); // the group's order changed
        } catch (IOException e) {
            log.error("listener {}: {}", sockets.localAddress(), e.getMessage());
        }
    }

    /**
     * No worker gets a new connection any more: they all go to a socket of
     * the group that nobody accepts from, so that the workers can finish what
     * they have. (Closing the master's copies would not do: each worker's
     * socket would stay in the group, and get connections, until the worker
     * exits; shutting a listening socket down would fail the worker's accept.)
     * The master keeps every socket, so the group's order stays known, until
     * {@link #close}.
     */
    @Override
    public void stopAccepting() {
        if (sink != null || !steers) {
            return; // handed over (the new master dispatches), or not yet taken over (the old master does)
        }
        try {
            sink = sockets.add();
            steerOrFail(live);
        } catch (IOException e) {
            log.warn("stopping listener {}: {}", sockets.localAddress(), e.toString());
        }
    }

    /** The whole group, with a socket at its end for each slot of the new master, which this master holds too until it exits. */
    @Override
    public List<Handing> handOver(int slots) throws IOException {
        List<Socket> added = new ArrayList<>();
        for (int slot = 0; slot < slots; slot++) {
            Socket socket = spare.isEmpty() ? sockets.add() : spare.remove(0);
            holders.put(socket, new ArrayList<>(List.of(NEW_MASTER)));
            added.add(socket);
        }
        List<Handing> handed = new ArrayList<>();
        for (Socket socket : sockets.group()) {
            handed.add(new Handing(sticky.agent.common.Protocol.KERNEL, socket.fd, added.indexOf(socket)));
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
     * next upgrade, but for one that still holds connections its workers
     * never took (they left before their drain ended), which is closed.
     */
    @Override
    public void releaseForeign() {
        boolean closed = false;
        try {
            for (Socket socket : foreign) {
                int lost = sockets.queued(socket);
                if (lost == 0) {
                    spare.add(socket);
                    continue;
                }
                log.warn("listener {}: {} connection(s) queued for the old master's workers were closed",
                        localAddress(), lost);
                sockets.close(socket);
                closed = true;
            }
            foreign.clear();
            if (closed) {
                steerOrFail(live); // the group's order changed
            }
        } catch (IOException e) {
            log.error("listener {}: {}", sockets.localAddress(), e.getMessage());
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
