package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledForJreRange;
import org.junit.jupiter.api.condition.JRE;
import sticky.it.apps.AsyncChannelApp;
import sticky.it.apps.ChannelApp;
import sticky.it.apps.HttpServerApp;
import sticky.it.apps.SelectorApp;
import sticky.it.apps.ServerSocketApp;
import sticky.it.apps.VirtualThreadApp;

/**
 * Every JDK TCP server API, each in a plain app that knows nothing of sticky,
 * clustered with workers=2, dispatched by the kernel and by the master:
 * connections from nine client addresses (eight IPv4 loopback addresses and
 * ::1) each stay on one worker, and the app sees the real client address.
 */
@Timeout(180)
class ServerApisTest {
    static List<InetAddress> sources() throws Exception {
        List<InetAddress> sources = new ArrayList<>(Clients.ipv4(8));
        sources.add(Clients.ipv6Loopback());
        return sources;
    }

    private static void assertClustered(String dispatch, Class<?> app, Routing.Request request) throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2,dispatch=" + dispatch, app, "0")) {
            int port = cluster.awaitPort(2);
            Routing.assertSticky(cluster, port, sources(), 4, request);
        }
    }

    @EachDispatch
    void httpServer(String dispatch) throws Exception {
        assertClustered(dispatch, HttpServerApp.class, Clients::http);
    }

    @EachDispatch
    void blockingServerSocketWithAcceptTimeout(String dispatch) throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2,dispatch=" + dispatch, ServerSocketApp.class, "0")) {
            int port = cluster.awaitPort(2);
            cluster.await(l -> l.equals("accept timed out"), 2, Cluster.START);
            Routing.assertSticky(cluster, port, sources(), 4, Clients::line);
        }
    }

    @EachDispatch
    void blockingServerSocketChannel(String dispatch) throws Exception {
        assertClustered(dispatch, ChannelApp.class, Clients::line);
    }

    @EachDispatch
    void nonBlockingServerSocketChannelWithSelector(String dispatch) throws Exception {
        assertClustered(dispatch, SelectorApp.class, Clients::line);
    }

    @EachDispatch
    void asynchronousServerSocketChannel(String dispatch) throws Exception {
        assertClustered(dispatch, AsyncChannelApp.class, Clients::line);
    }

    @EachDispatch
    @EnabledForJreRange(min = JRE.JAVA_21)
    void serverSocketOnVirtualThreads(String dispatch) throws Exception {
        assertClustered(dispatch, VirtualThreadApp.class, Clients::line);
    }

    /**
     * The kernel's program and the master compute the same slot for a client
     * (IPv4, and IPv6 on a dual-stack socket): changing dispatch moves no one.
     */
    @Test
    void bothDispatchesSendAClientToTheSameWorker() throws Exception {
        List<InetAddress> clients = new ArrayList<>(Clients.ipv4(24));
        clients.add(Clients.ipv6Loopback());
        Map<String, Map<InetAddress, String>> byDispatch = new HashMap<>();
        for (String dispatch : List.of("kernel", "master")) {
            try (Cluster cluster = Cluster.withAgent("workers=3,dispatch=" + dispatch, ChannelApp.class, "0")) {
                int port = cluster.awaitPort(3);
                Map<InetAddress, String> pids = Routing.assertSticky(cluster, port, clients, 2, Clients::line);
                Map<InetAddress, String> ids = new HashMap<>();
                pids.forEach((client, pid) -> ids.put(client, cluster.output().lines()
                        .filter(l -> l.endsWith(" started, pid " + pid)).findFirst().orElseThrow()
                        .replaceAll(".*worker (\\d+) started.*", "$1")));
                byDispatch.put(dispatch, ids);
            }
        }
        assertEquals(3, new java.util.HashSet<>(byDispatch.get("master").values()).size(), "every worker has clients");
        assertEquals(byDispatch.get("master"), byDispatch.get("kernel"));
    }
}
