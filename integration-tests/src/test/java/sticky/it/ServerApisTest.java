package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledForJreRange;
import org.junit.jupiter.api.condition.JRE;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;
import sticky.it.apps.AsyncChannelApp;
import sticky.it.apps.ChannelApp;
import sticky.it.apps.HttpServerApp;
import sticky.it.apps.SelectorApp;
import sticky.it.apps.SelfClientApp;
import sticky.it.apps.ServerSocketApp;
import sticky.it.apps.VirtualThreadApp;

/**
 * Every JDK TCP server API, each in a plain app that knows nothing of sticky,
 * clustered with workers=2, dispatched by the kernel and by the master:
 * connections from nine client addresses (eight IPv4 loopback addresses and
 * ::1) each stay on one worker, and the app sees the real client address.
 * Twice: with workers that rewrite the JDK's classes themselves (cds=off,
 * which keeps no cache) and with workers that define them from the rewrite
 * cache an earlier worker left (issue 29); each worker's debug line says
 * which it did.
 */
@Timeout(180)
@ParameterizedClass(name = "classes {0}")
@MethodSource("modes")
class ServerApisTest {
    /** Both, or the one the system property sticky.test.classes names (the emulated aarch64 run: cached). */
    static List<String> modes() {
        String only = System.getProperty("sticky.test.classes");
        return only == null || only.isEmpty() ? List.of("rewritten", "cached") : List.of(only);
    }

    @Parameter
    String classes;
    /** The cached mode's TMPDIR, with a cache in it (made by a first cluster). */
    private static Path cacheHome;

    /** The options, and the environment that gives the cluster its per-user directory. */
    private Cluster cluster(String options, Class<?> app) throws Exception {
        Map<String, String> env = Map.of("TMPDIR", tmpdir().toString());
        return Cluster.withAgent(options + ",log=debug" + (classes.equals("rewritten") ? ",cds=off" : ""), env, app, "0");
    }

    /** The rewritten mode's directories, one per cluster, removed after each test. */
    private final List<Path> fresh = new ArrayList<>();

    @AfterEach
    void removeFresh() throws Exception {
        for (Path dir : fresh) {
            Directories.delete(dir);
        }
    }

    @AfterAll
    static void removeCache() throws Exception {
        if (cacheHome != null) {
            Directories.delete(cacheHome);
        }
    }

    private Path tmpdir() throws Exception {
        if (classes.equals("rewritten")) {
            Path dir = Files.createTempDirectory("sticky-rewrite");
            fresh.add(dir);
            return dir;
        }
        synchronized (ServerApisTest.class) {
            if (cacheHome == null) {
                cacheHome = Files.createTempDirectory("sticky-rewrite-cache");
                try (Cluster first = Cluster.withAgent("workers=1", Map.of("TMPDIR", cacheHome.toString()),
                        ServerSocketApp.class, "0")) {
                    first.awaitPort(1);
                }
            }
            return cacheHome;
        }
    }

    /** Every worker of cluster made its classes as this run's mode says. */
    private void assertClassesWere(Cluster cluster, int workers) throws Exception {
        String made = classes.equals("rewritten") ? "JDK classes rewritten (no cache: cds=off)"
                : "JDK classes from the rewrite cache";
        cluster.await(l -> l.contains(made), workers, Cluster.START);
        assertFalse(cluster.output().contains(classes.equals("rewritten") ? "JDK classes from the rewrite cache"
                : "JDK classes rewritten"), cluster.output());
    }

    static List<InetAddress> sources() throws Exception {
        List<InetAddress> sources = new ArrayList<>(Clients.ipv4(8));
        sources.add(Clients.ipv6Loopback());
        return sources;
    }

    private void assertClustered(String dispatch, Class<?> app, Routing.Request request) throws Exception {
        try (Cluster cluster = cluster("workers=2,dispatch=" + dispatch, app)) {
            int port = cluster.awaitPort(2);
            assertClassesWere(cluster, 2);
            Routing.assertSticky(cluster, port, sources(), 4, request);
        }
    }

    @EachDispatch
    void httpServer(String dispatch) throws Exception {
        assertClustered(dispatch, HttpServerApp.class, Clients::http);
    }

    @EachDispatch
    void blockingServerSocketWithAcceptTimeout(String dispatch) throws Exception {
        try (Cluster cluster = cluster("workers=2,dispatch=" + dispatch, ServerSocketApp.class)) {
            int port = cluster.awaitPort(2);
            assertClassesWere(cluster, 2);
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
     * A client that connects the moment a worker's bind returns reaches that
     * worker if its address is the worker's: each worker of SelfClientApp is
     * its own first client, from eight addresses, and the ones that turn out
     * to be its own (by the rounds after) were answered by itself. Worker 2
     * binds a second after worker 1, while worker 1 serves. (Routed only after
     * the bind's answer, a CI run's first client went to the other worker.)
     */
    @EachDispatch
    void aClientThatConnectsTheMomentTheBindReturnsReachesItsWorker(String dispatch) throws Exception {
        try (Cluster cluster = cluster("workers=2,dispatch=" + dispatch, SelfClientApp.class)) {
            int port = cluster.awaitPort(2);
            Map<InetAddress, String> owners = Routing.assertSticky(cluster, port,
                    Clients.ipv4(SelfClientApp.SOURCES), 2, Clients::line);
            List<String> firsts = cluster.output().lines().filter(l -> l.startsWith("first ")).toList();
            assertEquals(2 * SelfClientApp.SOURCES, firsts.size(), cluster.output());
            Set<String> checked = new HashSet<>();
            for (String first : firsts) {
                String[] f = first.split(" "); // first SOURCE ANSWERING_PID OWN_PID
                if (owners.get(InetAddress.getByName(f[1])).equals(f[3])) {
                    assertEquals(f[3], f[2], "worker " + f[3] + "'s first client from its own " + f[1]
                            + " was answered by another:\n" + cluster.output());
                    checked.add(f[3]);
                }
            }
            assertEquals(new HashSet<>(owners.values()), checked, "each worker met a client of its own first");
        }
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
            try (Cluster cluster = cluster("workers=3,dispatch=" + dispatch, ChannelApp.class)) {
                int port = cluster.awaitPort(3);
                assertClassesWere(cluster, 3);
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
