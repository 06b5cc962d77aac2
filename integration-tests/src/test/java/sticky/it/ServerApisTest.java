package sticky.it;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
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
 * clustered with workers=2: connections from nine client addresses (eight
 * IPv4 loopback addresses and ::1) each stay on one worker, and the app sees
 * the real client address.
 */
@Timeout(180)
class ServerApisTest {
    static List<InetAddress> sources() throws Exception {
        List<InetAddress> sources = new ArrayList<>(Clients.ipv4(8));
        sources.add(Clients.ipv6Loopback());
        return sources;
    }

    private static void assertClustered(Class<?> app, Routing.Request request) throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2", app, "0")) {
            int port = cluster.awaitPort(2);
            Routing.assertSticky(cluster, port, sources(), 4, request);
        }
    }

    @Test
    void httpServer() throws Exception {
        assertClustered(HttpServerApp.class, Clients::http);
    }

    @Test
    void blockingServerSocketWithAcceptTimeout() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2", ServerSocketApp.class, "0")) {
            int port = cluster.awaitPort(2);
            cluster.await(l -> l.equals("accept timed out"), 2, Cluster.START);
            Routing.assertSticky(cluster, port, sources(), 4, Clients::line);
        }
    }

    @Test
    void blockingServerSocketChannel() throws Exception {
        assertClustered(ChannelApp.class, Clients::line);
    }

    @Test
    void nonBlockingServerSocketChannelWithSelector() throws Exception {
        assertClustered(SelectorApp.class, Clients::line);
    }

    @Test
    void asynchronousServerSocketChannel() throws Exception {
        assertClustered(AsyncChannelApp.class, Clients::line);
    }

    @Test
    @EnabledForJreRange(min = JRE.JAVA_21)
    void serverSocketOnVirtualThreads() throws Exception {
        assertClustered(VirtualThreadApp.class, Clients::line);
    }
}
