package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.tools.attach.VirtualMachine;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sticky.it.apps.EchoHttpApp;
import sticky.it.apps.HttpAndUdpApp;
import sticky.it.apps.HttpServerApp;
import sticky.it.apps.UnixDomainApp;

/**
 * java -jar sticky.jar upgrade: a new master takes the listening sockets
 * over from the running one, under load, with an application that has no
 * graceful stop of its own (a JDK HttpServer); a client keeps its slot; a new
 * master that cannot start, or cannot read the running one's protocol,
 * leaves the running one serving.
 */
@Timeout(300)
class UpgradeTest {
    @EachDispatch
    void noRequestFailsAndEveryClientKeepsItsSlotThroughAnUpgradeUnderLoad(String dispatch) throws Exception {
        Path dir = Files.createTempDirectory("sticky-upgrade");
        Path notify = dir.resolve("notify");
        try (NotifySocket systemd = new NotifySocket(notify);
                Cluster cluster = Cluster.withAgent("workers=2,dispatch=" + dispatch,
                        Map.of("NOTIFY_SOCKET", notify.toString()), EchoHttpApp.class, "0")) {
            int port = cluster.awaitPort(2);
            assertTrue(systemd.next(Cluster.START).startsWith("READY=1"));
            long oldMaster = cluster.process().pid();
            Map<Long, Integer> slotOf = slotsByPid(oldMaster);
            List<InetAddress> sources = Clients.ipv4(8);
            long newMaster;
            try (Load load = new Load(port, sources.subList(0, 4), sources.subList(4, 8))) {
                awaitRequests(load, 200);
                long before = load.requests();
                long started = System.nanoTime();
                OperatorTest.Run upgrade = OperatorTest.cli("upgrade", Long.toString(oldMaster));
                long tookMs = (System.nanoTime() - started) / 1_000_000;
                long during = load.requests() - before;
                assertEquals(0, upgrade.code(), upgrade.output());
                assertTrue(upgrade.output().contains("upgraded: the old master is gone"), upgrade.output());
                newMaster = cluster.tookOverBy(upgrade.output());
                slotOf.putAll(slotsByPid(newMaster));
                awaitRequests(load, load.requests() + 200); // and on the new master's workers
                load.close();
                assertEquals(List.of(), load.failures());
                System.out.printf("upgrade (dispatch=%s): %d ms, %d requests served during it, none failed%n", dispatch,
                        tookMs, during);
                for (InetAddress source : sources) {
                    Set<Integer> slots = load.pids().get(source).stream().map(p -> slotOf.get(Long.parseLong(p)))
                            .collect(Collectors.toSet());
                    assertEquals(1, slots.size(), source + " was served by slots " + slots + " (" + load.pids() + ")");
                }
                Set<Long> newWorkers = slotsByPid(newMaster).keySet();
                assertTrue(sources.stream().anyMatch(s -> load.pids().get(s).stream().map(Long::parseLong)
                        .anyMatch(newWorkers::contains)), "the new master's workers served");
            }
            assertEquals(0, cluster.waitForExit(Duration.ofSeconds(60)).intValue(), "the old master left cleanly");
            assertEquals("MAINPID=" + newMaster + "\nREADY=1\nSTATUS=2 workers serving on [0:0:0:0:0:0:0:0]:" + port,
                    systemd.next(Cluster.START));
            assertTrue(ProcessHandle.of(newMaster).map(ProcessHandle::isAlive).orElse(false));
            MasterStatus upgraded = MasterStatus.of(newMaster);
            assertEquals(List.of("serving", "serving"),
                    upgraded.workers().stream().map(MasterStatus.Worker::state).collect(Collectors.toList()));
            assertEquals(new MasterStatus.Upgrade("took-over", null, oldMaster), upgraded.upgrade());
            Routing.assertSticky(slotsByPid(newMaster).keySet(), port, sources, 2, Clients::http);
            assertFalse(cluster.output().contains("STOPPING"), cluster.output());
            assertEquals(0, OperatorTest.cli("stop", Long.toString(newMaster)).code());
            assertEquals("STOPPING=1\nSTATUS=stopping", systemd.next(Cluster.START),
                    "nothing after MAINPID but the new master's own stop: the old one's leaving is no stop of the service");
        } finally {
            Files.deleteIfExists(notify);
            Files.delete(dir);
        }
    }

    @Test
    void aNewProtocolTakesOverWhereItReadsTheOldOneAndIsRefusedWhereItDoesNot() throws Exception {
        Path dir = Files.createTempDirectory("sticky-upgrade-jar");
        Path jar = dir.resolve("sticky.jar");
        Files.copy(Cluster.JAR, jar);
        try (Cluster cluster = Cluster.withAgentJar(jar, "workers=2", Map.of(), EchoHttpApp.class, "0")) {
            int port = cluster.awaitPort(2);
            long master = cluster.process().pid();
            Set<Long> workers = slotsByPid(master).keySet();

            // Protocol 3 that reads no master of protocol 2: a rolling restart's workers and an upgrade are refused.
            deploy(jar, dir, 3, 3);
            String stopped = cluster.reloadAndWait();
            assertTrue(stopped != null && stopped.matches("worker 1: replacement pid \\d+ exited with code 1; pid \\d+ keeps"
                    + " serving"), stopped);
            // The worker is told why, and says it (its one line is the feature).
            cluster.await(l -> l.contains("a worker of protocol 3 cannot join a master of protocol 2"), 1, Cluster.START);
            OperatorTest.Run refused = OperatorTest.cli("upgrade", Long.toString(master));
            assertEquals(1, refused.code(), refused.output());
            assertTrue(refused.output().contains("the new master (protocol 3) takes over from masters of protocol 3 to 3,"
                    + " and this one speaks protocol 2"), refused.output());
            assertEquals(workers, slotsByPid(master).keySet(), "the running workers serve on");
            Routing.assertSticky(cluster, port, ServerApisTest.sources(), 1, Clients::http);

            // Protocol 3 that reads protocol 2: it takes over, and its workers speak 3 with it.
            deploy(jar, dir, 3, 2);
            OperatorTest.Run upgraded = OperatorTest.cli("upgrade", Long.toString(master));
            assertEquals(0, upgraded.code(), upgraded.output());
            long newMaster = cluster.tookOverBy(upgraded.output());
            assertEquals(3, MasterStatus.of(newMaster).protocol());
            assertEquals(2, slotsByPid(newMaster).size());
            Routing.assertSticky(slotsByPid(newMaster).keySet(), port, ServerApisTest.sources(), 1, Clients::http);
        } finally {
            Directories.delete(dir);
        }
    }

    @Test
    void aNewMasterThatCannotStartLeavesTheOldOneServingAndAnEditedArgFileIsPickedUp() throws Exception {
        // Also: the new master's workers open their JMX ports beside the old workers' (upgraded through JMX itself).
        Path dir = Files.createTempDirectory("sticky-upgrade-args");
        Path args = dir.resolve("args");
        int metricsPort = JvmPortsTest.freePorts(1);
        // Each worker opens a JMX port of its own (the port + its id): the new master's must not be the old ones'.
        int jmxPorts = JvmPortsTest.freePorts(256 + 4); // the port + id, and + 256 for every other generation
        // (on the command line: the master gives each worker its port by rewriting its own arguments, not an argfile's)
        List<String> jmxOptions = List.of("-Dcom.sun.management.jmxremote.port=" + jmxPorts,
                "-Dcom.sun.management.jmxremote.authenticate=false", "-Dcom.sun.management.jmxremote.ssl=false",
                "-Dcom.sun.management.jmxremote.host=127.0.0.1");
        List<String> good = Cluster.argsWithAgent("workers=2,metrics=" + metricsPort, EchoHttpApp.class, "0");
        try (Cluster cluster = Cluster.withArgFile(jmxOptions, args, good)) {
            int port = cluster.awaitPort(2);
            long master = cluster.process().pid();
            Set<Long> workers = slotsByPid(master).keySet();
            List<InetAddress> sources = Clients.ipv4(4);
            try (Load load = new Load(port, sources.subList(0, 2), sources.subList(2, 4))) {
                awaitRequests(load, 100);
                // A deploy whose main class is gone: every worker of the new master fails, and it gives up.
                Files.write(args, good.stream().map(a -> a.equals(EchoHttpApp.class.getName()) ? "sticky.it.apps.Gone" : a)
                        .collect(Collectors.toList()));
                OperatorTest.Run failed = OperatorTest.cli("upgrade", Long.toString(master));
                assertEquals(1, failed.code(), failed.output());
                assertTrue(failed.output().matches("(?s)upgrade failed: the new master \\(pid \\d+\\) exited with code 1"
                        + " before it took over\n"), failed.output());
                // A bad agent option: the new master stops at once, naming it.
                Files.write(args, good.stream().map(a -> a.replace("workers=2", "workers=two")).collect(Collectors.toList()));
                failed = OperatorTest.cli("upgrade", Long.toString(master));
                assertEquals(1, failed.code(), failed.output());
                assertTrue(failed.output().contains("exited with code 2 before it took over"), failed.output());
                awaitRequests(load, load.requests() + 100);
                load.close();
                assertEquals(List.of(), load.failures());
            }
            assertEquals(workers, slotsByPid(master).keySet(), "the running workers served throughout");

            // The JMX operation, this time; the new master's metrics port is the old one's.
            Files.write(args, good.stream().map(a -> a.replace("workers=2", "workers=3")).collect(Collectors.toList()));
            long newMaster;
            VirtualMachine vm = VirtualMachine.attach(Long.toString(master));
            try (JMXConnector jmx = JMXConnectorFactory.connect(new JMXServiceURL(vm.startLocalManagementAgent()))) {
                Object answer = jmx.getMBeanServerConnection().invoke(new ObjectName("dev.sticky:type=Cluster"), "upgrade",
                        new Object[0], new String[0]);
                newMaster = cluster.tookOverBy((String) answer);
                assertEquals("upgraded: master " + newMaster + " took over from master " + master
                        + ", which leaves once its workers finish", answer);
            } finally {
                vm.detach();
            }
            assertEquals(3, slotsByPid(newMaster).size(), "the edited argfile's workers=3");
            assertEquals(0, cluster.waitForExit(Duration.ofSeconds(60)).intValue());
            String metrics;
            try (InputStream in = new URL("http://127.0.0.1:" + metricsPort + "/metrics").openStream()) {
                metrics = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            }
            assertTrue(metrics.contains("sticky_worker_up{worker=\"3\"} 1\n"), metrics);
            Routing.assertSticky(slotsByPid(newMaster).keySet(), port, ServerApisTest.sources(), 1, Clients::http);
        } finally {
            Files.deleteIfExists(args);
            Files.delete(dir);
        }
    }

    @Test
    void datagramAndUnixDomainSocketsAreHandedOverToo() throws Exception {
        int udpPort = JvmPortsTest.freePorts(1);
        try (Cluster cluster = Cluster.withAgent("workers=2", HttpAndUdpApp.class, Integer.toString(udpPort), "channel")) {
            cluster.awaitPort(2);
            cluster.await(l -> l.equals("udp " + udpPort), 2, Cluster.START);
            long master = cluster.process().pid();
            Map<Long, Integer> slotOf = slotsByPid(master);
            List<InetAddress> sources = Clients.ipv4(16);
            Map<InetAddress, String> before = Routing.assertSticky(cluster, udpPort, sources, 2, UdpTest::exchange);
            OperatorTest.Run upgrade = OperatorTest.cli("upgrade", Long.toString(master));
            assertEquals(0, upgrade.code(), upgrade.output());
            long newMaster = cluster.tookOverBy(upgrade.output());
            Map<Long, Integer> newSlots = slotsByPid(newMaster);
            slotOf.putAll(newSlots);
            Map<InetAddress, String> after = Routing.assertSticky(newSlots.keySet(), udpPort, sources, 2, UdpTest::exchange);
            for (InetAddress source : sources) {
                assertEquals(slotOf.get(Long.parseLong(before.get(source))), slotOf.get(Long.parseLong(after.get(source))),
                        source + " keeps its slot");
            }
        }

        Path dir = Files.createTempDirectory("sticky-upgrade-unix");
        Path socket = dir.resolve("app.sock");
        try (Cluster cluster = Cluster.withAgent("workers=2", UnixDomainApp.class, socket.toString())) {
            cluster.await(l -> l.equals("unix " + socket), 2, Cluster.START);
            long master = cluster.process().pid();
            OperatorTest.Run upgrade = OperatorTest.cli("upgrade", Long.toString(master));
            assertEquals(0, upgrade.code(), upgrade.output());
            long newMaster = cluster.tookOverBy(upgrade.output());
            cluster.await(l -> l.equals("unix " + socket), 4, Cluster.START); // the app's own line, from each new worker
            Set<String> newWorkers = slotsByPid(newMaster).keySet().stream().map(String::valueOf).collect(Collectors.toSet());
            assertEquals(0, cluster.waitForExit(Duration.ofSeconds(60)).intValue());
            assertEquals(newWorkers, UnixDomainTest.servedBy(socket, 40), "both new workers accept on the path");
            try (Stream<Path> left = Files.list(dir)) {
                assertEquals(Set.of("app.sock", ".app.sock.sticky-" + newMaster),
                        left.map(p -> p.getFileName().toString()).collect(Collectors.toSet()),
                        "the old master removed its link, the new one keeps its own");
            }
        } finally {
            Directories.delete(dir);
        }
    }

    static void awaitRequests(Load load, long count) throws InterruptedException {
        long deadline = System.nanoTime() + Cluster.START.toNanos();
        while (load.requests() < count) {
            assertTrue(System.nanoTime() < deadline, "load stalled at " + load.requests() + ": " + load.failures());
            Thread.sleep(10);
        }
    }

    /** The master's serving workers: pid to id, once every slot serves. */
    static Map<Long, Integer> slotsByPid(long master) throws Exception {
        MasterStatus status = MasterStatus.await(master, s -> !s.workers().isEmpty()
                && s.workers().stream().allMatch(w -> w.state().equals("serving")), Cluster.START);
        Map<Long, Integer> slots = new HashMap<>();
        status.workers().forEach(w -> slots.put(w.pid(), w.id()));
        return slots;
    }

    /** Replaces jar as a deploy does (a new file moved over it) with a copy whose manifest says other protocols. */
    private static void deploy(Path jar, Path dir, int protocol, int upgradesFrom) throws IOException {
        Path next = dir.resolve("sticky.jar.new");
        try (JarInputStream in = new JarInputStream(Files.newInputStream(Cluster.JAR))) {
            Manifest manifest = new Manifest(in.getManifest());
            manifest.getMainAttributes().put(new Attributes.Name("Sticky-Protocol"), Integer.toString(protocol));
            manifest.getMainAttributes().put(new Attributes.Name("Sticky-Upgrades-From"), Integer.toString(upgradesFrom));
            try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(next), manifest)) {
                for (JarEntry e = in.getNextJarEntry(); e != null; e = in.getNextJarEntry()) {
                    out.putNextEntry(new JarEntry(e.getName()));
                    in.transferTo(out);
                }
            }
        }
        Files.move(next, jar, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
