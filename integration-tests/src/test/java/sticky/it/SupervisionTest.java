package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sticky.it.apps.FailingApp;
import sticky.it.apps.HttpServerApp;
import sticky.it.apps.SlowAcceptApp;

/** Workers die; the master restarts them, keeps their clients served, and loses no connection. */
@Timeout(240)
class SupervisionTest {
    @Test
    void aKilledWorkerIsRestartedInItsSlotAndMeanwhileOnlyItsClientsMove() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2", HttpServerApp.class, "0")) {
            int port = cluster.awaitPort(2);
            List<InetAddress> sources = ServerApisTest.sources();
            Map<InetAddress, String> before = Routing.assertSticky(cluster, port, sources, 2, Clients::http);
            // Until its successor serves again, every request succeeds: the victim's clients go to the
            // other worker; the other worker's clients never move. Then its clients are back on it.
            String[] victimAndSuccessor = Routing.killAWorkerAndAwaitItsReturn(cluster, port, sources, before, Clients::http);
            String victim = victimAndSuccessor[0];
            long successor = Long.parseLong(victimAndSuccessor[1]);
            MasterStatus status = cluster.awaitStatus(s -> s.workers().stream()
                    .anyMatch(w -> w.pid() == successor && w.restarts() == 1 && w.state().equals("serving")));
            assertTrue(status.workers().stream().noneMatch(w -> w.pid() == Long.parseLong(victim)), status.toString());
            assertEquals(1, status.workers().stream().mapToInt(w -> w.replacements().get("crash")).sum(), status.toString());
        }
    }

    /**
     * As an OOM killer might: each slot's worker killed three times, each time
     * soon after it started serving. Only workers that die before they serve
     * count as failing at start; these are restarted, and the master never
     * gives up.
     */
    @Test
    void workersKilledSoonAfterTheyServeAreAlwaysRestarted() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2", HttpServerApp.class, "0")) {
            int port = cluster.awaitPort(2);
            for (int kill = 0; kill < 6; kill++) {
                int id = 1 + kill % 2;
                long pid = cluster.awaitServing(2).worker(id).pid();
                ProcessHandle victim = ProcessHandle.of(pid).orElseThrow();
                victim.destroyForcibly();
                victim.onExit().get(30, TimeUnit.SECONDS);
                cluster.awaitStatus(MasterStatus.replaced(id, pid));
            }
            assertTrue(cluster.process().isAlive(), cluster.output());
            MasterStatus status = cluster.awaitServing(2);
            assertEquals(List.of(3, 3), status.workers().stream().map(MasterStatus.Worker::restarts).collect(Collectors.toList()));
            Routing.assertSticky(cluster, port, ServerApisTest.sources(), 2, Clients::http);
        }
    }

    @Test
    void aWorkerThatKeepsFailingAtStartIsRestartedWithBackOffUntilTheClusterGivesUp() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=1", FailingApp.class)) {
            Integer code = cluster.waitForExit(Duration.ofSeconds(120));
            assertNotNull(code, "the master must give up");
            assertEquals(1, code.intValue());
            List<String> log = cluster.output().lines().filter(l -> l.contains("sticky -")).collect(Collectors.toList());
            List<String> delays = log.stream().filter(l -> l.contains("restarting it in"))
                    .map(l -> l.substring(l.indexOf("restarting it in"))).collect(Collectors.toList());
            assertEquals(List.of("restarting it in 100 ms", "restarting it in 200 ms"), delays, cluster.output());
            assertTrue(log.get(log.size() - 1).endsWith("every worker keeps failing at start, giving up"),
                    cluster.output());
            assertEquals(3, cluster.output().lines().filter(l -> l.startsWith("failing at start")).count());
        }
    }

    /**
     * kill -9 one worker during a flood of new connections to a server slower
     * than the flood, so that connections queue for it. Only connections that
     * worker had accepted may fail: with master dispatch, the ones the master
     * handed it but it never accepted go to the other worker; with kernel
     * dispatch, the ones queued on its slot's socket wait there for its
     * successor.
     */
    @EachDispatch
    void killingAWorkerDuringAFloodLosesOnlyTheConnectionsItHadAccepted(String dispatch) throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2,dispatch=" + dispatch, SlowAcceptApp.class, "0")) {
            int port = cluster.awaitPort(2);
            List<InetAddress> sources = Clients.ipv4(16);
            Map<InetAddress, String> owner = Routing.assertSticky(cluster, port, sources, 1, Clients::line);
            String victim = owner.get(sources.get(0));

            List<Integer> failedPorts = Collections.synchronizedList(new ArrayList<>());
            List<String> failures = Collections.synchronizedList(new ArrayList<>());
            AtomicBoolean running = new AtomicBoolean(true);
            List<Thread> clients = new ArrayList<>();
            AtomicLong served = new AtomicLong();
            for (InetAddress source : sources) {
                Thread t = new Thread(() -> {
                    while (running.get()) {
                        int localPort = -1;
                        try (Socket socket = Clients.connect(source, port)) {
                            localPort = socket.getLocalPort();
                            String reply = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                            if (!reply.startsWith("pid=")) {
                                throw new IOException("no answer");
                            }
                            served.incrementAndGet();
                        } catch (IOException e) {
                            failedPorts.add(localPort);
                            failures.add(source + " port " + localPort + ": " + e);
                        }
                    }
                });
                t.start();
                clients.add(t);
            }
            cluster.await(l -> l.startsWith("accepted pid=" + victim), 20, Cluster.START);
            int victimSlot = cluster.awaitStatus(s -> true).workers().stream()
                    .filter(w -> w.pid() == Long.parseLong(victim)).findFirst().orElseThrow().id();
            ProcessHandle.of(Long.parseLong(victim)).orElseThrow().destroyForcibly();
            cluster.awaitStatus(MasterStatus.replaced(victimSlot, Long.parseLong(victim))); // the successor serves its slot
            long after = served.get();
            while (served.get() < after + 50) {
                Thread.sleep(10); // keep the flood going on the surviving worker
            }
            running.set(false);
            for (Thread t : clients) {
                t.join(60_000);
            }

            Set<Integer> acceptedByVictim = cluster.output().lines().filter(l -> l.startsWith("accepted pid=" + victim))
                    .map(l -> Integer.parseInt(l.substring(l.indexOf("port=") + 5))).collect(Collectors.toSet());
            Set<Integer> unexplained = new HashSet<>(failedPorts);
            unexplained.removeAll(acceptedByVictim);
            // The app is single-threaded: at most one connection can be between accept() and its print.
            assertTrue(unexplained.size() <= 1, "lost connections the killed worker never accepted: " + failures);
            System.out.println("flood: " + served.get() + " served, " + failures.size() + " failed, all accepted by the "
                    + "killed worker but " + unexplained.size());
            assertNotEquals(0, served.get());
        }
    }
}
