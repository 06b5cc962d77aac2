package sticky.agent.master.listen;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;
import org.slf4j.Logger;
import sticky.agent.common.Protocol.BindRequest;
import sticky.agent.common.Protocol;
import sticky.agent.jvm.Logs;
import sticky.agent.options.Options;
import sticky.agent.route.Router;
import sticky.agent.unix.Libc;

/**
 * One address the workers bound: the real listening socket(s) the master
 * owns for them, a route per worker process that bound it, and which route
 * is each slot's live one. Its {@link Dispatch} follows the live table: a
 * slot without a live route gives its clients to the next live slot, so the
 * clients of the other slots never move. Used on the master's loop only.
 */
public final class Listener {
    private static final Logger log = Logs.get();
    static final int BACKLOG = 1024;

    private final Dispatch dispatch;
    /** A TCP listener (not UDP, not Unix-domain): its workers' connections are counted and drained. */
    private final boolean tcp;
    private final List<Route> routes = new ArrayList<>();
    /** Each slot's live route, or null; slots from routed on are not routed (yet, or any more). */
    private final Route[] live = new Route[Options.MAX_WORKERS];
    /** The slots clients are routed over. */
    private int routed;
    private boolean stopped;
    /** The bind it was opened for, which an upgrade hands to the new master with its sockets. */
    private BindRequest request;
    /** Upgrade, in the new master: the old master's listener, which every worker of this one must bind before it takes over. */
    private boolean adopted;
    /** The same, and not yet bound by a worker of this one. */
    private boolean adoptedUnbound;
    /** Upgrade, in the old master: the new master dispatches it. */
    private boolean handedOver;

    private Listener(Dispatch dispatch, int routed, boolean tcp) {
        this.dispatch = dispatch;
        this.tcp = tcp;
        this.routed = routed;
    }

    private Listener withRequest(BindRequest request) {
        this.request = request;
        return this;
    }

    /**
     * Upgrade, in the new master: the listener an old master handed over
     * (its sockets and the bind it was opened for), dispatched as there. It
     * takes no connection until {@link #resume}.
     */
    static Listener adopt(BindRequest request, List<Dispatch.Handing> handed, AtomicLongArray dispatched, int slots,
            Router router) throws IOException {
        Dispatch.Handing first = handed.get(0);
        Listener listener;
        if (first.kind() == Protocol.KERNEL) {
            listener = new Listener(KernelDispatch.adopt(request, slots, handed), slots, !request.datagram());
            if (router.mode() != Router.Mode.IP) {
                log.warn("listener {}: the old master dispatched it by the kernel; route={} takes effect at a restart",
                        listener.name(), router.mode().toString().toLowerCase(java.util.Locale.ROOT));
            }
        } else if (first.kind() == Protocol.UNIX_SOCKET) {
            listener = new Listener(UnixDispatch.adopt(first.fd(), Path.of(request.path())), slots, false);
        } else {
            ListeningSocket listening = ListeningSocket.adopted(first.fd(), handedAddress(first.fd()));
            listener = new Listener(new MasterDispatch(listening, dispatched, router, true), slots, true);
        }
        listener.adopted = true;
        listener.adoptedUnbound = true;
        log.info("listening on {} (handed over by the old master)", listener.name());
        return listener.withRequest(request);
    }

    /** Where a socket an old master handed over is bound. */
    static InetSocketAddress handedAddress(int fd) throws IOException {
        InetSocketAddress local = sticky.agent.unix.Sockaddr.local(fd);
        if (local == null) {
            throw new IOException("a handed socket is not bound to an IP address");
        }
        return local;
    }

    /** Upgrade, in the old master: this listener's sockets and its bind, for a new master of slots workers. */
    List<Dispatch.Handing> handOver(int slots) throws IOException {
        return dispatch.handOver(slots);
    }

    BindRequest request() {
        return request;
    }

    void handedOver() {
        handedOver = true;
        stopped = true; // the new master accepts now: nothing of this one's to stop
        dispatch.handedOver();
        log.info("listener {}: handed over", name());
    }

    void resume() {
        if (handedOver) { // the new master failed after all
            handedOver = false;
            stopped = false;
        }
        dispatch.resume();
    }

    /** Whether the old master's sockets are released and this listener, which no worker bound, closed. */
    boolean releaseForeign() {
        dispatch.releaseForeign();
        if (adoptedUnbound) {
            log.info("closed listener on {}: the new workers do not bind it", name());
            close();
            return true;
        }
        return false;
    }

    /**
     * Binds the real socket(s) as the application asked; the JDK's own
     * BindException on failure. With kernel dispatch (by client address only)
     * one socket per slot to start with, unless the application shares the port itself with
     * SO_REUSEPORT: its sockets and the slots' would be one reuseport group.
     */
    static Listener open(BindRequest request, AtomicLongArray dispatched, int slots, Router router,
            boolean kernelDispatch, ActivatedSockets activated) throws IOException {
        return openDispatch(request, dispatched, slots, router, kernelDispatch, activated).withRequest(request);
    }

    private static Listener openDispatch(BindRequest request, AtomicLongArray dispatched, int slots, Router router,
            boolean kernelDispatch, ActivatedSockets activated) throws IOException {
        ActivatedSockets.Socket passedIn = request.family() == Protocol.UNIX || request.datagram() ? null
                : activated.take(request);
        if (passedIn != null) {
            MasterDispatch master = new MasterDispatch(ListeningSocket.activated(passedIn), dispatched, router);
            log.info("listening on {} (passed in by the service manager), dispatched by the master", master.name());
            return new Listener(master, slots, true);
        }
        if (request.family() == Protocol.UNIX) {
            UnixDispatch unix = UnixDispatch.open(Path.of(request.path()), BACKLOG);
            log.info("listening on {}, accepted from by every worker", unix.name());
            return new Listener(unix, slots, false);
        }
        if (request.datagram()) {
            // No socket to pass on: datagrams can only be dispatched by the kernel, by their source address.
            KernelDispatch kernel = KernelDispatch.open(request, slots, BACKLOG);
            if (kernel == null) {
                throw new IOException("sticky: this kernel cannot dispatch datagrams by client (SO_ATTACH_REUSEPORT_CBPF)");
            }
            log.info("listening on {}, dispatched by the kernel", kernel.name());
            return new Listener(kernel, slots, false);
        }
        if (kernelDispatch && router.mode() == Router.Mode.IP && !request.reusePort()) {
            KernelDispatch kernel = KernelDispatch.open(request, slots, BACKLOG);
            if (kernel != null) {
                log.info("listening on {}, dispatched by the kernel", kernel.name());
                return new Listener(kernel, slots, true);
            }
        }
        // With SO_REUSEPORT the application binds this port more than once (one listener per index
        // here), as it may without sticky; the kernel spreads connections over the listeners.
        ServerSocketChannel channel = bind(request, request.port(), request.reusePort(), BACKLOG);
        try {
            MasterDispatch master = new MasterDispatch(ListeningSocket.of(channel), dispatched, router);
            log.info("listening on {}", master.name());
            return new Listener(master, slots, true);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** A UDP socket bound as the request asks, on port, with SO_REUSEPORT or not. */
    static DatagramChannel bindDatagram(BindRequest request, int port, boolean reusePort) throws IOException {
        DatagramChannel channel = DatagramChannel.open(
                request.family() == 4 ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6);
        try {
            if (request.receiveBuffer() > 0) {
                channel.setOption(StandardSocketOptions.SO_RCVBUF, request.receiveBuffer());
            }
            channel.setOption(StandardSocketOptions.SO_REUSEPORT, reusePort);
            channel.bind(new InetSocketAddress(request.address(), port));
            return channel;
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

    /** The address bound; null for a Unix-domain socket. */
    public InetSocketAddress localAddress() {
        return dispatch.localAddress();
    }

    /** host:port, udp host:port, or unix PATH. */
    public String name() {
        return dispatch.name();
    }

    boolean isTcp() {
        return tcp;
    }

    /** Whether workers accept from their slot's socket themselves. */
    public boolean dispatchedByKernel() {
        return dispatch.byKernel();
    }

    Route add(int slot, long pid, int lifeline) throws IOException {
        adoptedUnbound = false;
        Route route = new Route(this, slot, pid, lifeline, dispatch.attach(slot, pid));
        routes.add(route);
        return route;
    }

    /** Makes route its slot's live route, once its worker's bind answer goes out. */
    void goLive(Route route) {
        if (route.answered && routes.contains(route) && live[route.slot] != route) {
            live[route.slot] = route;
            steer();
        }
    }

    /** Makes the route of process pid its slot's live route, if it has one here. */
    void promote(int slot, long pid) {
        for (Route route : routes) {
            if (route.slot == slot && route.pid == pid) {
                goLive(route);
            }
        }
    }

    boolean adopted() {
        return adopted;
    }

    boolean hasRouteOf(long pid, boolean answered) {
        return routes.stream().anyMatch(r -> r.pid == pid && (r.answered || !answered));
    }

    boolean queued(long pid) {
        return queuedFor(pid) > 0;
    }

    long queuedFor(long pid) {
        return routes.stream().filter(r -> r.pid == pid).mapToLong(dispatch::queued).sum();
    }

    boolean isOnly(Route route) {
        return routes.size() == 1 && routes.get(0) == route;
    }

    boolean isEmpty() {
        return routes.isEmpty();
    }

    /** Clients are routed over count slots from now on. */
    void route(int count) {
        if (count != routed) {
            routed = count;
            steer();
        }
    }

    /** Slot is gone for good: its sockets are nobody's. */
    void removeSlot(int slot) {
        live[slot] = null;
        dispatch.removeSlot(slot);
    }

    /** The route's slot sends its clients elsewhere (the next live slot), if the route was live. */
    void retire(Route route) {
        if (live[route.slot] == route) {
            live[route.slot] = null;
            steer();
        }
    }

    /** Removes the route; what was queued to its worker goes to another, if handOn, or is closed. */
    void remove(Route route, boolean handOn) {
        if (routes.remove(route)) {
            retire(route);
            dispatch.detach(route, handOn);
            Libc.close(route.lifeline);
        }
    }

    private void steer() {
        dispatch.steer(Arrays.copyOf(live, routed));
        log.debug("listener {}: routed over {} slots; workers whose own clients reach them: {}", name(), routed,
                liveWorkers());
    }

    /** The ids (slot + 1) whose live worker gets their clients. */
    private List<Integer> liveWorkers() {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < routed; i++) {
            if (live[i] != null) {
                ids.add(i + 1);
            }
        }
        return ids;
    }

    /** The listener as status shows it: its name, its dispatch (kernel, master, unix) and the ids of its live workers. */
    public record View(String name, String dispatch, List<Integer> liveWorkers) {}

    View view() {
        return new View(name(), dispatch.kind(), liveWorkers());
    }

    /**
     * Stops taking connections for the workers, once (master dispatch closes
     * its listening socket; kernel dispatch steers every slot to a socket
     * nobody accepts from); the workers' routes stay, so their server sockets stay as they were (a blocked accept
     * stays blocked, as it would without sticky) until {@link #close}.
     */
    void stopAccepting() {
        if (!stopped) {
            stopped = true;
            dispatch.stopAccepting();
            log.info("closed listener on {}", name());
        }
    }

    /** Closes the listening socket(s), and every route with what is still queued on it. */
    void close() {
        for (Route route : new ArrayList<>(routes)) {
            remove(route, false);
        }
        dispatch.close();
    }
}
