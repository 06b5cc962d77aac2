package sticky.agent.master;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.stream.Collectors;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import sticky.agent.common.Protocol.BindRequest;
import sticky.agent.master.Listener.Unaccepted;
import sticky.agent.master.Listener.Route;
import sticky.agent.route.Router;
import sticky.agent.unix.Libc;

/**
 * The master's listeners by what workers asked for, as in Node's cluster: the
 * first bind of an address and port opens the listener, later ones join it.
 * Port 0 is one shared ephemeral port per address (and per index, so an
 * application binding port 0 twice gets two ports). When the application
 * closes its last server socket on a listener, the listener closes; when its
 * worker died instead, the listener stays for the worker's successor.
 */
final class Listeners {
    private record Key(int family, InetAddress address, int port, int index) {}

    private final Map<Key, Listener> byKey = new HashMap<>();
    /** Connections handed to each slot's workers, over all listeners. */
    private final AtomicLongArray dispatched;

    private final Router router;
    private final boolean kernelDispatch;

    Listeners(int slots, Router router, boolean kernelDispatch) {
        this.router = router;
        this.kernelDispatch = kernelDispatch;
        this.dispatched = new AtomicLongArray(slots);
    }

    long dispatched(int worker) {
        return dispatched.get(worker - 1);
    }

    synchronized List<InetSocketAddress> addresses() {
        return byKey.values().stream().map(Listener::localAddress).collect(Collectors.toList());
    }

    /** Joins or opens the listener; the route is not live until {@link Listener#goLive}. */
    synchronized Route bind(BindRequest request, int lifeline, long pid) throws IOException {
        Key key = new Key(request.family(), request.address(), request.port(), request.index());
        Listener listener = byKey.get(key);
        if (listener == null) {
            listener = Listener.open(request, dispatched, router, kernelDispatch);
            byKey.put(key, listener);
        }
        return listener.add(request.worker(), pid, lifeline);
    }

    /** The route's lifeline ended: its slot's new clients go elsewhere at once, before {@link #release}. */
    void retire(Route route) {
        route.listener.retire(route);
    }

    /** The route's lifeline ended: the application closed its server socket, or its worker died. */
    synchronized void release(Route route, boolean workerDied) {
        Listener listener = route.listener;
        List<Unaccepted> unaccepted = listener.remove(route);
        if (listener.isEmpty() && !workerDied && byKey.containsValue(listener)) {
            byKey.values().remove(listener);
            unaccepted.forEach(u -> Libc.close(u.fd())); // no worker is left to take them
            listener.close();
        } else {
            listener.redispatch(unaccepted, route.worker - 1);
        }
    }

    /** Makes process pid's routes the live ones of its slot. */
    synchronized void promote(int worker, long pid) {
        byKey.values().forEach(l -> l.promote(worker, pid));
    }

    /** The route's worker has its bind answer: the route may go live. */
    synchronized void answered(Route route) {
        route.answered = true;
        notifyAll();
    }

    /** Whether process next has an answered route on every listener where process previous has a route. */
    synchronized boolean covers(long next, long previous) {
        return byKey.values().stream().allMatch(l -> !l.hasRouteOf(previous, false) || l.hasRouteOf(next, true));
    }

    /** Waits until condition holds (checked after every bind) or the time is up. */
    synchronized boolean await(BooleanSupplier condition, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (!condition.getAsBoolean()) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return false;
            }
            wait(Math.min(left, 100)); // also re-checks conditions that do not depend on binds
        }
        return true;
    }

    /** Closes the listeners no worker holds, once no worker will come back for them. */
    synchronized void closeEmpty() {
        for (Listener listener : new ArrayList<>(byKey.values())) {
            if (listener.isEmpty()) {
                byKey.values().remove(listener);
                listener.close();
            }
        }
    }

    /** Closes every listening socket; the workers' routes stay until {@link #closeAll}. */
    synchronized void stopAccepting() {
        byKey.values().forEach(Listener::stopAccepting);
    }

    synchronized void closeAll() {
        byKey.values().forEach(Listener::close);
        byKey.clear();
    }
}
