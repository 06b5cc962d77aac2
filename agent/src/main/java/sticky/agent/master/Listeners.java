package sticky.agent.master;

import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import sticky.agent.Protocol.BindRequest;
import sticky.agent.master.Listener.Route;

/**
 * The master's listeners by what workers asked for, as in Node's cluster: the
 * first bind of an address and port opens the listener, later ones join it,
 * the last close closes it. Port 0 is one shared ephemeral port per address
 * (and per index, so an application binding port 0 twice gets two ports).
 */
final class Listeners {
    private record Key(int family, InetAddress address, int port, int index) {}

    private final int slots;
    private final Map<Key, Listener> byKey = new HashMap<>();
    private final Map<Listener, Key> keys = new HashMap<>();

    Listeners(int slots) {
        this.slots = slots;
    }

    /** Joins or opens the listener; the route is inactive until {@link Route#activate()}. */
    synchronized Route bind(BindRequest request, int connection) throws IOException {
        Key key = new Key(request.family(), request.address(), request.port(), request.index());
        Listener listener = byKey.get(key);
        if (listener == null) {
            listener = Listener.open(request, slots);
            byKey.put(key, listener);
            keys.put(listener, key);
        }
        return listener.add(request.worker(), connection);
    }

    synchronized void release(Route route) {
        Listener listener = route.listener;
        if (listener.remove(route) && keys.containsKey(listener)) {
            byKey.remove(keys.remove(listener));
            listener.close();
        }
    }

    synchronized void closeAll() {
        for (Listener listener : new ArrayList<>(keys.keySet())) {
            listener.close();
        }
        byKey.clear();
        keys.clear();
    }
}
