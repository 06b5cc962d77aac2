package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static sticky.it.UpgradeTest.awaitRequests;
import static sticky.it.UpgradeTest.slotsByPid;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import sticky.it.apps.EchoHttpApp;
import sticky.it.apps.HttpServerApp;
import sticky.it.apps.LateBindApp;

/**
 * An upgrade on a hostile operator's day (what a fault run found, issue 27):
 * rolling restarts after it, an application that binds a port late, a
 * SIGHUP to the new master before it took over, a JDK switched through a
 * link, the old master killed halfway, the new one dead right after it took
 * over. Every app here has no graceful stop of its own; failures are counted
 * as a client sees them.
 */
@Timeout(300)
class UpgradeFaultsTest {
    /** How long LateBindApp waits before it binds its main port. */
    private static final String LATE_MS = "3000";

    /**
     * After an upgrade the group holds the old master's sockets, idle, beside
     * the new master's; without one, the replaced workers' sockets stay in the
     * group as spares. Rolling restarts then, under new connections from 64
     * client addresses, move no client, fail no request, and leave no
     * listening socket of the port with connections queued where no worker
     * accepts them (each socket's Recv-Q, as ss shows it, comes back to 0).
     */
    @ParameterizedTest(name = "after an upgrade: {0}")
    @ValueSource(booleans = {true, false})
    void rollingRestartsMoveNoClientAndStrandNoConnection(boolean afterAnUpgrade) throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2", HttpServerApp.class, "0")) {
            int port = cluster.awaitPort(2);
            List<InetAddress> sources = Clients.ipv4(64);
            long master = cluster.process().pid();
            Map<Long, Integer> slotOf = slotsByPid(master);
            if (afterAnUpgrade) {
                OperatorTest.Run upgrade = OperatorTest.cli("upgrade", Long.toString(master));
                assertEquals(0, upgrade.code(), upgrade.output());
                master = cluster.tookOverBy(upgrade.output());
                slotOf.putAll(slotsByPid(master));
            }
            try (Load load = new Load(port, sources, List.of())) {
                awaitRequests(load, 500);
                for (int reload = 0; reload < 2; reload++) { // each replaces both slots: every spare of the group is used
                    assertEquals(null, MasterStatus.request(master, "reload --wait").failure());
                    slotOf.putAll(slotsByPid(master));
                    awaitRequests(load, load.requests() + 300);
                }
                load.close();
                assertEquals(List.of(), load.failures());
                assertEachKeptItsSlot(load, sources, slotOf);
            }
            awaitNoQueue(port);
        }
    }

    /**
     * An app that binds its admin port at once and its main port seconds
     * later: the new master takes over only once its workers have bound both,
     * and no request to the main port fails.
     */
    @EachDispatch
    void anAppThatBindsAPortLateIsUpgradedWithoutAFailedRequest(String dispatch) throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2,dispatch=" + dispatch, LateBindApp.class, LATE_MS)) {
            int main = mainPort(cluster);
            long oldMaster = cluster.process().pid();
            Map<Long, Integer> slotOf = slotsByPid(oldMaster);
            List<InetAddress> sources = Clients.ipv4(8);
            try (Load load = new Load(main, sources.subList(0, 4), sources.subList(4, 8))) {
                awaitRequests(load, 200);
                OperatorTest.Run upgrade = OperatorTest.cli("upgrade", Long.toString(oldMaster));
                assertEquals(0, upgrade.code(), upgrade.output());
                long newMaster = cluster.tookOverBy(upgrade.output());
                Map<Long, Integer> newWorkers = slotsByPid(newMaster);
                slotOf.putAll(newWorkers);
                awaitRequests(load, load.requests() + 200);
                load.close();
                assertEquals(List.of(), load.failures());
                assertEachKeptItsSlot(load, sources, slotOf);
                assertTrue(load.pids().values().stream().flatMap(Set::stream).map(Long::parseLong)
                        .anyMatch(newWorkers::containsKey), "the new master's workers served the late port");
                for (long worker : newWorkers.keySet()) {
                    String environment = Files.readString(Path.of("/proc/" + worker + "/environ"));
                    assertFalse(environment.contains("STICKY_UPGRADE"),
                            "a new master's worker has nothing of the upgrade in its environment: " + environment);
                }
            }
        }
    }

    /**
     * A SIGHUP to the new master while it waits for its workers (before it
     * took over) starts no rolling restart there: it is refused and said so,
     * the upgrade goes on, and no client moves.
     */
    @Test
    void aHangupToTheNewMasterBeforeItTookOverIsRefusedAndMovesNoClient() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2", LateBindApp.class, LATE_MS)) {
            int main = mainPort(cluster);
            long oldMaster = cluster.process().pid();
            Map<Long, Integer> slotOf = slotsByPid(oldMaster);
            List<InetAddress> sources = Clients.ipv4(16);
            try (Load load = new Load(main, sources, List.of())) {
                awaitRequests(load, 200);
                CompletableFuture<OperatorTest.Run> upgrade = upgradeLater(oldMaster);
                long newMaster = awaitJoining(cluster, oldMaster);
                signal("HUP", newMaster);
                OperatorTest.Run done = upgrade.get(Cluster.START.toSeconds(), TimeUnit.SECONDS);
                assertEquals(0, done.code(), done.output());
                assertEquals(newMaster, cluster.tookOverBy(done.output()));
                slotOf.putAll(slotsByPid(newMaster));
                awaitRequests(load, load.requests() + 300);
                load.close();
                assertEquals(List.of(), load.failures());
                assertEachKeptItsSlot(load, sources, slotOf);
                assertEquals("none", MasterStatus.of(newMaster).reload().state(), "no rolling restart ran in it");
                assertTrue(cluster.output().contains("reload ignored: this master is taking over from the old one"),
                        cluster.output());
            }
        }
    }

    /**
     * A master started as LINK/bin/java, LINK a link to one JDK: the link
     * repointed to another, an upgrade runs the new master and its workers
     * on the other JDK, as a restart would.
     */
    @Test
    void anUpgradeRunsTheJdkTheMastersJavaLinkNamesNow() throws Exception {
        Path current = Path.of(System.getProperty("java.home")).toRealPath();
        Path other = Stream.of("/usr/lib/jvm/temurin-25-jdk-amd64", "/usr/lib/jvm/java-17-openjdk-amd64")
                .map(Path::of).filter(Files::isDirectory).map(UpgradeFaultsTest::real)
                .filter(p -> !p.equals(current)).findFirst()
                .orElseThrow(() -> new AssertionError("a second JDK (scripts/setup installs JDK 17 and 25)"));
        Path dir = Files.createTempDirectory("sticky-jdk-link");
        Path link = dir.resolve("jdk");
        try {
            Files.createSymbolicLink(link, current);
            try (Cluster cluster = Cluster.withAgentOnJava(link.resolve("bin/java"), "workers=2", HttpServerApp.class,
                    "0")) {
                int port = cluster.awaitPort(2);
                long oldMaster = cluster.process().pid();
                assertEquals(current.resolve("bin/java"), real(Path.of("/proc/" + oldMaster + "/exe")));
                Path repointed = dir.resolve("jdk.new");
                Files.createSymbolicLink(repointed, other);
                Files.move(repointed, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                OperatorTest.Run upgrade = OperatorTest.cli("upgrade", Long.toString(oldMaster));
                assertEquals(0, upgrade.code(), upgrade.output());
                long newMaster = cluster.tookOverBy(upgrade.output());
                assertEquals(other.resolve("bin/java"), real(Path.of("/proc/" + newMaster + "/exe")));
                Map<Long, Integer> workers = slotsByPid(newMaster);
                for (long worker : workers.keySet()) {
                    assertEquals(other.resolve("bin/java"), real(Path.of("/proc/" + worker + "/exe")));
                }
                String reply = Clients.http(InetAddress.getByName("127.0.0.1"), port);
                assertTrue(workers.containsKey(Long.parseLong(Clients.field(reply, "pid"))), reply);
            }
        } finally {
            Directories.delete(dir);
        }
    }

    /**
     * kill -9 of the old master once it handed its sockets over, while the
     * new master's workers start: the new master takes over on its own at
     * once and serves; the command line, which lost the old master, says
     * the upgrade did not finish as asked.
     */
    @EachDispatch
    void aNewMasterWhoseOldOneIsKilledAfterTheHandOverTakesOverAlone(String dispatch) throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2,dispatch=" + dispatch, LateBindApp.class, LATE_MS)) {
            List<Integer> ports = ports(cluster);
            int admin = ports.get(0);
            long oldMaster = cluster.process().pid();
            List<InetAddress> sources = Clients.ipv4(8);
            try (Load load = new Load(admin, sources, List.of())) {
                awaitRequests(load, 200);
                CompletableFuture<OperatorTest.Run> upgrade = upgradeLater(oldMaster);
                long newMaster = awaitJoining(cluster, oldMaster);
                signal("KILL", oldMaster);
                OperatorTest.Run lost = upgrade.get(Cluster.START.toSeconds(), TimeUnit.SECONDS);
                assertNotEquals(0, lost.code(), lost.output());
                MasterStatus took = MasterStatus.await(newMaster, s -> s.upgrade().state().equals("took-over"),
                        Cluster.START);
                assertTrue(took.upgrade().why().contains("went away before it handed over"), took.upgrade().toString());
                Map<Long, Integer> newWorkers = slotsByPid(newMaster);
                // Every loss to the kill has surfaced once each client has been answered by a new worker.
                load.awaitEverySourceServedBy(newWorkers.keySet(), Cluster.START);
                long failedAtTheKill = load.failures().size();
                awaitRequests(load, load.requests() + 300);
                load.close();
                System.out.printf("old master killed after the hand-over (dispatch=%s): %d of %d requests failed%n",
                        dispatch, failedAtTheKill, load.requests() + failedAtTheKill);
                // What a client loses to a kill -9: its request in flight on (or queued for) the old workers, which
                // exit with their master; one at most per client.
                assertTrue(failedAtTheKill <= sources.size(), load.failures().toString());
                assertEquals(failedAtTheKill, load.failures().size(), "nothing failed once the new master took over");
                String reply = Clients.http(sources.get(0), ports.get(1));
                assertTrue(newWorkers.containsKey(Long.parseLong(Clients.field(reply, "pid"))),
                        "the late port is served too, by the new master's workers: " + reply);
                awaitNoQueue(admin);
            }
        }
    }

    /**
     * The new master dies right after it took over, while the old one still
     * finishes a request: the command line waits for the old master to go,
     * then reports what it sees, an upgrade that left nothing serving.
     */
    @Test
    void theCommandLineReportsAFailureWhenTheNewMasterDiesRightAfterTheTakeOver() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=1", EchoHttpApp.class, "0")) {
            int port = cluster.awaitPort(1);
            long oldMaster = cluster.process().pid();
            try (Socket inProgress = Clients.connect(InetAddress.getByName("127.0.0.1"), port)) {
                // Half a request's body: the old worker waits for the rest, so the old master waits for it.
                OutputStream out = inProgress.getOutputStream();
                out.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\nhalf".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                Process cli = new ProcessBuilder(Cluster.JAVA, "-jar", Cluster.JAR.toString(), "upgrade",
                        Long.toString(oldMaster)).redirectErrorStream(true).start();
                List<String> said = new ArrayList<>();
                BufferedReader lines = new BufferedReader(new InputStreamReader(cli.getInputStream(), StandardCharsets.UTF_8));
                String line = lines.readLine();
                while (line != null && !line.startsWith("upgraded: master ")) {
                    said.add(line);
                    line = lines.readLine();
                }
                if (line == null) {
                    fail("the upgrade did not take over: " + said);
                }
                long newMaster = cluster.tookOverBy(line);
                signal("KILL", newMaster);
                ProcessHandle.of(newMaster).ifPresent(p -> p.onExit().orTimeout(30, TimeUnit.SECONDS).join());
                out.write("rest".getBytes(StandardCharsets.US_ASCII)); // the old worker answers, and leaves
                out.flush();
                String answer = new String(inProgress.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
                assertEquals("HTTP/1.1 200", answer, "the request in progress is finished by the old worker");
                String rest = lines.lines().collect(Collectors.joining("\n"));
                assertTrue(cli.waitFor(Cluster.START.toSeconds(), TimeUnit.SECONDS));
                assertEquals(1, cli.exitValue(), rest);
                assertTrue(rest.contains("the old master is gone, and so is the new one (pid " + newMaster + ")"), rest);
            }
        }
    }

    /** The admin and main ports LateBindApp's workers print (two lines each), admin first. */
    private static List<Integer> ports(Cluster cluster) throws InterruptedException {
        List<Integer> ports = cluster.awaitListening(4);
        assertEquals(2, ports.size(), "an admin port and a main port: " + ports);
        return ports;
    }

    private static int mainPort(Cluster cluster) throws InterruptedException {
        return ports(cluster).get(1);
    }

    private static CompletableFuture<OperatorTest.Run> upgradeLater(long master) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return OperatorTest.cli("upgrade", Long.toString(master));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /**
     * The new master an upgrade of oldMaster started, once it holds the old
     * master's sockets and its workers serve the port they bind at once
     * (status answers "taking-over"), before they bind the late one.
     */
    private static long awaitJoining(Cluster cluster, long oldMaster) throws Exception {
        MasterStatus running = MasterStatus.await(oldMaster, s -> s.upgrade().master() != null
                && s.upgrade().master() != 0 && s.upgrade().state().equals("running"), Cluster.START);
        long newMaster = running.upgrade().master();
        cluster.track(newMaster);
        MasterStatus joining = MasterStatus.await(newMaster, s -> s.upgrade().state().equals("taking-over")
                && s.workers().size() == s.workersAsked()
                && s.workers().stream().allMatch(w -> w.state().equals("serving")), Cluster.START);
        assertEquals(oldMaster, joining.upgrade().master().longValue());
        return newMaster;
    }

    private static void signal(String name, long pid) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-" + name, Long.toString(pid)).start().waitFor());
    }

    private static void assertEachKeptItsSlot(Load load, List<InetAddress> sources, Map<Long, Integer> slotOf) {
        for (InetAddress source : sources) {
            Set<Integer> slots = load.pids().get(source).stream().map(p -> slotOf.get(Long.parseLong(p)))
                    .collect(Collectors.toSet());
            assertEquals(1, slots.size(), source + " was served by slots " + slots + " (" + load.pids() + ")");
        }
    }

    private static Path real(Path path) {
        try {
            return path.toRealPath();
        } catch (java.io.IOException e) {
            throw new AssertionError(path + ": " + e);
        }
    }

    /** Until every listening socket on port has nothing queued (ss's Recv-Q); fails with what ss shows after 20 s. */
    static void awaitNoQueue(int port) throws Exception {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
        while (true) {
            Process ss = new ProcessBuilder("ss", "-ltnH", "sport = :" + port).redirectErrorStream(true).start();
            String table = new String(ss.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            ss.waitFor();
            // State Recv-Q Send-Q Local Peer: on a listening socket, Recv-Q is the accept queue
            boolean queued = table.lines().anyMatch(l -> !l.isBlank() && !l.trim().split("\\s+")[1].equals("0"));
            if (!queued && !table.isBlank()) {
                return;
            }
            assertTrue(System.nanoTime() < deadline, "connections wait where no worker accepts them:\n" + table);
            Thread.sleep(100);
        }
    }

}
