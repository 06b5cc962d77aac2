package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import sticky.it.apps.ChannelApp;
import sticky.it.apps.CloseAfterOneApp;
import sticky.it.apps.ReusePortApp;
import sticky.it.apps.HttpServerApp;
import sticky.it.apps.ProbeThenBindApp;
import sticky.it.apps.QueueThenCloseApp;

/** The bind handshake: port 0, several listeners, bind errors, and the listener's end. */
@Timeout(180)
class ListenersTest {
    @Test
    void portZeroIsOneSharedPortAndTwoListenersAreTwoPorts() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2", HttpServerApp.class, "0", "0")) {
            // Each worker binds port 0 twice: its first binds share one port, its second binds another.
            List<Integer> ports = cluster.awaitListening(4);
            assertEquals(2, ports.size(), "expected two shared ports, got " + ports);
            assertNotEquals(ports.get(0), ports.get(1));
            for (int port : ports) {
                Routing.assertSticky(cluster, port, ServerApisTest.sources(), 2, Clients::http);
            }
        }
    }

    @Test
    void portInUseIsTheBindExceptionTheAppWouldGetWithoutTheAgent() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(0));
            String port = Integer.toString(taken.getLocalPort());
            String without;
            try (Cluster plain = Cluster.withoutAgent(ChannelApp.class, port)) {
                String line = plain.await(l -> l.contains("BindException"), 1, Cluster.START).get(0);
                without = line.substring(line.indexOf("java.net.BindException"));
                assertEquals("java.net.BindException: Address already in use", without);
                assertNotNull(plain.waitForExit(Cluster.START));
            }
            try (Cluster cluster = Cluster.withAgent("workers=2", ChannelApp.class, port)) {
                // Each worker fails, is restarted with back-off, fails again: the cluster gives up.
                Integer code = cluster.waitForExit(Cluster.START);
                cluster.await(l -> l.contains("every worker keeps failing at start, giving up"), 1, Cluster.START);
                // Every worker's failure is that exception (lines of two workers may interleave on stderr).
                int failures = cluster.output().split("Exception in thread \"main\" ", -1).length - 1;
                int bindFailures = cluster.output().split(java.util.regex.Pattern.quote(without), -1).length - 1;
                assertTrue(failures >= 2, cluster.output());
                assertEquals(failures, bindFailures, cluster.output());
                assertNotNull(code, "the master must stop once every worker has failed");
                assertEquals(1, code.intValue(), "the master's exit code must say the cluster did not stop cleanly");
            }
        }
    }

    /**
     * SO_REUSEPORT lets an application bind one port more than once (Netty's
     * way to accept on several epoll threads): the master opens a listener per
     * bind, with SO_REUSEPORT as well, and each routes by client address, so
     * both of each worker's channels serve and every client keeps its worker.
     */
    @Test
    void aPortBoundTwiceWithReusePortServesOnBothSocketsAndStaysSticky() throws Exception {
        int port = JvmPortsTest.freePorts(1);
        try (Cluster cluster = Cluster.withAgent("workers=2", ReusePortApp.class, Integer.toString(port))) {
            assertEquals(port, cluster.awaitPort(4), "two binds in each of two workers");
            Routing.assertSticky(cluster, port, ServerApisTest.sources(), 3, Clients::line);
            Set<String> channels = new java.util.HashSet<>();
            InetAddress client = InetAddress.getByName("127.0.0.1");
            for (int i = 0; i < 40 && channels.size() < 2; i++) {
                channels.add(Clients.field(Clients.line(client, port), "channel"));
            }
            assertEquals(Set.of("1", "2"), channels, "connections reach both of a worker's server channels");
        }
    }

    /**
     * A port probed first (bound and closed at once, "is it free?") and then
     * bound for real is one listener: the workers start, a worker killed
     * with -9 comes back on it, and a rolling restart goes through.
     */
    @Test
    void aPortProbedBeforeItIsBoundServesRestartsAndReloads() throws Exception {
        int port = JvmPortsTest.freePorts(1);
        try (Cluster cluster = Cluster.withAgent("workers=2", ProbeThenBindApp.class, Integer.toString(port))) {
            assertEquals(port, cluster.awaitPort(2));
            List<InetAddress> sources = ServerApisTest.sources();
            Map<InetAddress, String> before = Routing.assertSticky(cluster, port, sources, 2, Clients::http);
            Routing.killAWorkerAndAwaitItsReturn(cluster, port, sources, before, Clients::http);
            Set<Long> old = cluster.workers().stream().map(ProcessHandle::pid).collect(Collectors.toSet());
            cluster.signal("HUP");
            cluster.awaitStatus(MasterStatus.replacedAll(old));
            Routing.assertSticky(cluster, port, sources, 2, Clients::http);
            assertTrue(cluster.output().lines().noneMatch(l -> l.contains("BindException")), cluster.output());
        }
    }

    /** For each server API: its close reaches the master through the hook on the JDK's (or Netty's) close. */
    @ParameterizedTest
    @ValueSource(strings = {"socket", "channel", "selector", "async", "netty"})
    void theMasterClosesAListenerWhenTheLastWorkerClosesIt(String api) throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=1", CloseAfterOneApp.class, api, "0")) {
            int port = cluster.awaitPort(1);
            InetAddress client = InetAddress.getByName("127.0.0.1");
            assertTrue(Clients.line(client, port).startsWith("pid="));
            cluster.await(l -> l.equals("closed"), 1, Cluster.START);
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (true) {
                try {
                    Clients.connect(client, port).close();
                } catch (ConnectException refused) {
                    break; // the master no longer listens
                } catch (java.net.SocketException reset) {
                    // queued in the backlog as the listener closed: it is closing, poll again
                }
                assertTrue(System.nanoTime() < deadline, "port " + port + " still accepts connections");
                Thread.sleep(10);
            }
            assertThrows(ConnectException.class, () -> Clients.connect(client, port).close());
            Set<Long> alive = cluster.workers().stream().map(ProcessHandle::pid).collect(Collectors.toSet());
            assertEquals(1, alive.size(), "the worker itself keeps running");
        }
    }

    /**
     * With master dispatch, connections the master handed to a worker that
     * then closes its server socket without accepting them are taken back from
     * its queue and served by another worker: none is lost, none waits for the
     * closing worker.
     */
    @Test
    void connectionsQueuedForAWorkerThatClosesItsServerSocketGoToAnother() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2,dispatch=master", QueueThenCloseApp.class, "0")) {
            int port = cluster.awaitPort(2);
            InetAddress workerOnes = null;
            long closer = -1;
            for (InetAddress source : Clients.ipv4(32)) {
                String reply = Clients.line(source, port);
                if (Clients.field(reply, "worker").equals("1")) {
                    workerOnes = source; // worker 1 has served it and now holds its queue for 3 s
                    closer = Long.parseLong(Clients.field(reply, "pid"));
                    break;
                }
            }
            assertNotNull(workerOnes, "no client address of 32 hashes to worker 1");
            List<Socket> queued = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                queued.add(Clients.connect(workerOnes, port));
            }
            for (Socket socket : queued) {
                try (socket) {
                    String reply = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    assertEquals("2", Clients.field(reply.trim(), "worker"), "served by the other worker: " + reply);
                }
            }
            cluster.await(l -> l.equals("closed"), 1, Cluster.START);
            assertTrue(ProcessHandle.of(closer).map(ProcessHandle::isAlive).orElse(false),
                    "the worker that closed its server socket keeps running");
        }
    }

    /**
     * With kernel dispatch, once a worker closes its server socket (and stays
     * up), its slot's new clients go to another worker, as with the master's.
     */
    @Test
    void aSlotWhoseWorkerClosedItsServerSocketSendsItsNewClientsToAnother() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2,dispatch=kernel", QueueThenCloseApp.class, "0")) {
            int port = cluster.awaitPort(2);
            String listener = "[0:0:0:0:0:0:0:0]:" + port;
            cluster.awaitStatus(st -> st.listener(listener).liveWorkers().equals(List.of(1, 2)));
            InetAddress workerOnes = null;
            long closer = -1;
            for (InetAddress source : Clients.ipv4(32)) {
                String reply = Clients.line(source, port);
                if (Clients.field(reply, "worker").equals("1")) {
                    workerOnes = source;
                    closer = Long.parseLong(Clients.field(reply, "pid"));
                    break;
                }
            }
            assertNotNull(workerOnes, "no client address of 32 hashes to worker 1");
            cluster.await(l -> l.equals("closed"), 1, Cluster.START);
            MasterStatus status = cluster.awaitStatus(st -> st.listener(listener).liveWorkers().equals(List.of(2)));
            assertEquals("kernel", status.listener(listener).dispatch());
            for (int i = 0; i < 3; i++) {
                assertEquals("2", Clients.field(Clients.line(workerOnes, port), "worker"), "served by the other worker");
            }
            assertTrue(ProcessHandle.of(closer).map(ProcessHandle::isAlive).orElse(false),
                    "the worker that closed its server socket keeps running");
        }
    }
}
