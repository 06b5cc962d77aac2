package sticky.agent.master.listen;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.stream.Collectors;
import sticky.agent.common.Protocol.BindRequest;
import sticky.agent.options.Options;
import sticky.agent.route.Router;

/**
 * The master's listeners by what workers asked for, as in Node's cluster: the
 * first bind of an address and port opens the listener, later ones join it.
 * Port 0 is one shared ephemeral port per address (and per index, so an
 * application binding port 0 twice gets two ports). When the application
 * closes its last server socket on a listener, the listener closes; when its
 * worker died instead, the listener stays for the worker's successor. Used
 * on the master's loop only, but for {@link #dispatched}.
 */
public final class Listeners implements Routing {
    private record Key(boolean datagram, int family, InetAddress address, int port, int index, String path) {}

    private final Map<Key, Listener> byKey = new HashMap<>();
    /** Connections the master handed to each slot's workers, over all listeners (every slot there may be). */
    private final AtomicLongArray dispatched = new AtomicLongArray(Options.MAX_WORKERS);
    /** The slots clients are routed over. */
    private int routed;
    private final Router router;
    private final boolean kernelDispatch;

    /** Listening sockets the service manager passed in, adopted when the application binds their address. */
    private final ActivatedSockets activated;

    public Listeners(int slots, Router router, boolean kernelDispatch, ActivatedSockets activated) {
        this.activated = activated;
        this.router = router;
        this.kernelDispatch = kernelDispatch;
        this.routed = slots;
    }

    /** Connections the master handed to slot's workers; safe from any thread. */
    public long dispatched(int slot) {
        return dispatched.get(slot);
    }

    /** How status names the listeners: host:port, udp host:port, unix PATH. */
    public List<String> names() {
        return byKey.values().stream().map(Listener::name).collect(Collectors.toList());
    }

    /** Each listener as status shows it. */
    public List<Listener.View> view() {
        return byKey.values().stream().map(Listener::view).collect(Collectors.toList());
    }

    private static Key key(BindRequest request) {
        return new Key(request.datagram(), request.family(), request.address(), request.port(), request.index(),
                request.path());
    }

    /** Joins or opens the listener; the route is not live until it is answered and goes live. */
    public Route bind(BindRequest request, int slot, long pid, int lifeline) throws IOException {
        Key key = key(request);
        Listener listener = byKey.get(key);
        if (listener == null) {
            listener = Listener.open(request, dispatched, routed, router, kernelDispatch, activated);
            byKey.put(key, listener);
        }
        return listener.add(slot, pid, lifeline);
    }

    @Override
    public void answered(Route route) {
        route.answered = true;
    }

    @Override
    public void goLive(Route route) {
        route.listener.goLive(route);
    }

    @Override
    public void promote(int slot, long pid) {
        byKey.values().forEach(l -> l.promote(slot, pid));
    }

    @Override
    public boolean covers(long next, long previous) {
        return byKey.values().stream().allMatch(l -> !l.hasRouteOf(previous, false) || l.hasRouteOf(next, true));
    }

    @Override
    public void routeSlots(int count) {
        routed = count;
        byKey.values().forEach(l -> l.route(count));
    }

    @Override
    public void removeSlot(int slot) {
        byKey.values().forEach(l -> l.removeSlot(slot));
    }

    @Override
    public boolean bindsAdopted(long pid) {
        return byKey.values().stream().filter(Listener::adopted).allMatch(l -> l.hasRouteOf(pid, true));
    }

    @Override
    public boolean queued(long pid) {
        return byKey.values().stream().anyMatch(l -> l.queued(pid));
    }

    /**
     * How much waits for worker pid on the TCP listeners (connections queued
     * on its sockets; handed to it and not taken, with the bytes they take in
     * its channel): 0 when nothing does, less once it takes some.
     */
    public long waiting(long pid) {
        return byKey.values().stream().filter(Listener::isTcp).mapToLong(l -> l.queuedFor(pid)).sum();
    }

    /**
     * Where health checks go: the lowest port of the TCP listeners on the
     * wildcard or IPv4 loopback address (127.0.0.1 reaches it), or 0 if none.
     */
    public int healthPort() {
        return byKey.values().stream().filter(Listener::isTcp).map(Listener::localAddress)
                .filter(a -> a.getAddress().isAnyLocalAddress() || a.getAddress().getHostAddress().equals("127.0.0.1"))
                .mapToInt(InetSocketAddress::getPort).min().orElse(0);
    }

    /** The ports the TCP listeners listen on: their connections are the workers' to count and drain. */
    public Set<Integer> ports() {
        return byKey.values().stream().filter(Listener::isTcp).map(l -> l.localAddress().getPort())
                .collect(Collectors.toSet());
    }

    @Override
    public void retire(Route route) {
        route.listener.retire(route);
    }

    @Override
    public void release(Route route, boolean workerDied) {
        Listener listener = route.listener;
        // The application closed its last server socket here: no worker is left to take what was queued.
        boolean closing = !workerDied && listener.isOnly(route) && byKey.containsValue(listener);
        listener.remove(route, !closing);
        if (closing) {
            byKey.values().remove(listener);
            listener.close();
        }
    }

    @Override
    public void closeEmpty() {
        for (Listener listener : new ArrayList<>(byKey.values())) {
            if (listener.isEmpty()) {
                byKey.values().remove(listener);
                listener.close();
            }
        }
    }

    @Override
    public void stopAccepting() {
        byKey.values().forEach(Listener::stopAccepting);
    }

    /** One listening socket an upgrade hands over, and the bind of the listener it belongs to. */
    public record Handed(BindRequest request, int kind, int fd, int home) {
        Dispatch.Handing socket() {
            return new Dispatch.Handing(kind, fd, home);
        }
    }

    /**
     * Upgrade, in the old master: every listener's sockets for a new master
     * of slots workers, a listener's together and in order. This master
     * dispatches as before until {@link #handedOver}.
     */
    public List<Handed> handOver(int slots) throws IOException {
        List<Handed> handed = new ArrayList<>();
        for (Listener listener : byKey.values()) {
            for (Dispatch.Handing socket : listener.handOver(slots)) {
                handed.add(new Handed(listener.request(), socket.kind(), socket.fd(), socket.home()));
            }
        }
        return handed;
    }

    /** Upgrade, in the old master: the new master dispatches every listener from now on. */
    public void handedOver() {
        byKey.values().forEach(Listener::handedOver);
    }

    /**
     * Upgrade, in the new master: the old master's listeners, each to be
     * joined by this master's workers' binds as if it had opened them; none
     * dispatches until {@link #resume}.
     */
    public void adopt(List<Handed> handed) throws IOException {
        Map<Key, List<Handed>> groups = new java.util.LinkedHashMap<>();
        for (Handed h : handed) {
            groups.computeIfAbsent(key(h.request()), k -> new ArrayList<>()).add(h);
        }
        for (Map.Entry<Key, List<Handed>> group : groups.entrySet()) {
            List<Dispatch.Handing> sockets = group.getValue().stream().map(Handed::socket).collect(Collectors.toList());
            byKey.put(group.getKey(),
                    Listener.adopt(group.getValue().get(0).request(), sockets, dispatched, routed, router));
        }
    }

    /** Upgrade: this master dispatches the adopted listeners now (in the old master too, when a new one failed after taking them). */
    public void resume() {
        byKey.values().forEach(Listener::resume);
    }

    /** Upgrade, in the new master: the old master and its workers are gone; their sockets close, and listeners no worker bound. */
    public void releaseForeign() {
        byKey.values().removeIf(Listener::releaseForeign);
    }

    @Override
    public void closeAll() {
        byKey.values().forEach(Listener::close);
        byKey.clear();
    }
}
