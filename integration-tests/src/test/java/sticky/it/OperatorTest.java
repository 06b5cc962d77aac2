package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.tools.attach.VirtualMachine;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URL;
import java.net.URLConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import sticky.it.apps.HttpServerApp;
import sticky.it.apps.NettyApp;

/** java -jar sticky.jar status|reload|stop, the metrics endpoint and the JMX beans, against a real master. */
@Timeout(240)
class OperatorTest {
    record Run(int code, String output) {}

    static Run cli(String... args) throws Exception {
        return cli(Map.of(), args);
    }

    /** The command line with more variables in its environment. */
    static Run cli(Map<String, String> env, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Cluster.JAVA, "-jar", Cluster.JAR.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(env);
        Process p = builder.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the command line must finish");
        return new Run(p.exitValue(), output);
    }

    @Test
    void statusShowsListenersAndWorkersAsTextAndJson() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2", HttpServerApp.class, "0")) {
            int port = cluster.awaitPort(2);
            Map<InetAddress, String> owners = Routing.assertSticky(cluster, port, ServerApisTest.sources(), 3, Clients::http);
            String pid = Long.toString(cluster.process().pid());

            Run text = cli("status", pid);
            assertEquals(0, text.code(), text.output());
            assertTrue(text.output().startsWith("sticky master " + pid + ", up "), text.output());
            assertTrue(text.output().lines().findFirst().orElseThrow().endsWith(", sticky " + System.getProperty("sticky.version")
                    + " (protocol " + ControlChannelTest.protocol() + ")"), text.output());
            // Where the kernel cannot dispatch (the emulated aarch64 run: qemu-user passes no BPF program on), the master does.
            String dispatch = "master".equals(System.getProperty("sticky.test.dispatch")) ? "master" : "kernel";
            assertTrue(text.output().contains("listening on [0:0:0:0:0:0:0:0]:" + port + " (" + dispatch + " dispatch)"),
                    text.output());
            for (ProcessHandle worker : cluster.workers()) {
                assertTrue(Pattern.compile("(?m)^[12]\\s+" + worker.pid() + "\\s+serving\\s").matcher(text.output()).find(),
                        text.output());
            }

            // Three keep-alive connections held open from one client: its worker shows them.
            InetAddress client = ServerApisTest.sources().get(0);
            List<Socket> held = Clients.holdOpen(client, port, 3);
            try {
                Run json = cli("status", "--json", pid);
                assertEquals(0, json.code(), json.output());
                MasterStatus status = MasterStatus.parse(json.output());
                assertEquals(Long.parseLong(pid), status.pid());
                assertEquals(System.getProperty("sticky.version"), status.version());
                assertEquals(List.of(new MasterStatus.Listener("[0:0:0:0:0:0:0:0]:" + port, dispatch, List.of(1, 2))),
                        status.listeners());
                assertEquals(new MasterStatus.Reload("none", null), status.reload());
                assertEquals(new MasterStatus.Upgrade("none", null, null), status.upgrade());
                assertEquals(2, status.workers().size(), json.output());
                long dispatched = 0;
                for (MasterStatus.Worker w : status.workers()) {
                    assertEquals("serving", w.state());
                    assertEquals(1, w.generation());
                    assertEquals(0, w.restarts());
                    assertEquals(null, w.lastReplaced());
                    assertEquals(Map.of("crash", 0, "hang", 0, "memory", 0, "lifetime", 0, "reload", 0), w.replacements());
                    assertEquals(List.of(), w.ports());
                    assertEquals(null, w.replacement());
                    assertEquals(List.of(), w.leaving());
                    dispatched += w.dispatched();
                    long expectedOpen = Long.toString(w.pid()).equals(owners.get(client)) ? 3 : 0;
                    assertEquals(expectedOpen, w.open(), "open connections of worker " + w.id());
                }
                assertEquals(3 * ServerApisTest.sources().size() + 3, dispatched, json.output());
            } finally {
                for (Socket s : held) {
                    s.close();
                }
            }
        }
    }

    /**
     * Netty's epoll accepts through sticky's rewritten native socket: its
     * connections are counted as the JDK's are, by the worker that accepts
     * them from its slot's socket (kernel dispatch) or by the master that
     * hands them over.
     */
    @EachDispatch
    void dispatchedCountsNettysEpollConnections(String dispatch) throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2,dispatch=" + dispatch, NettyApp.class, "0")) {
            int port = cluster.awaitPort(2);
            cluster.await(l -> l.equals("transport epoll"), 2, Cluster.START);
            Routing.assertSticky(cluster, port, ServerApisTest.sources(), 3, Clients::http);
            MasterStatus status = cluster.status();
            assertEquals(3L * ServerApisTest.sources().size(),
                    status.workers().stream().mapToLong(MasterStatus.Worker::dispatched).sum(), status.toString());
        }
    }

    @Test
    void reloadAndStopFromTheCommandLine() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2", HttpServerApp.class, "0")) {
            cluster.awaitPort(2);
            String pid = Long.toString(cluster.process().pid());
            Set<Long> before = cluster.workers().stream().map(ProcessHandle::pid).collect(Collectors.toSet());
            Run reload = cli("reload", pid);
            assertEquals(new Run(0, "rolling restart started\n"), reload);
            cluster.awaitStatus(MasterStatus.replacedAll(before));
            Set<Long> after = cluster.workers().stream().map(ProcessHandle::pid).collect(Collectors.toSet());
            assertTrue(java.util.Collections.disjoint(before, after), before + " " + after);
            MasterStatus status = cluster.status();
            assertEquals(List.of(1, 1), status.workers().stream().map(MasterStatus.Worker::restarts).toList(),
                    "a replacement counts as a restart");
            assertEquals(List.of(2, 2), status.workers().stream().map(MasterStatus.Worker::generation).toList());
            assertEquals("done", status.reload().state());

            // --wait returns once the rolling restart is over.
            assertEquals(new Run(0, "rolling restart done\n"), cli("reload", "--wait", pid));
            status = cluster.status();
            assertEquals(List.of(2, 2), status.workers().stream().map(MasterStatus.Worker::restarts).toList());
            assertTrue(status.workers().stream().allMatch(w -> w.state().equals("serving") && w.leaving().isEmpty()),
                    "every old worker has left once the rolling restart is done: " + status);

            // Without a PID the command line finds the master itself, or names it among several.
            Run found = cli("status");
            assertTrue(found.code() == 0 && found.output().startsWith("sticky master " + pid + ",")
                    || found.code() == 3 && found.output().matches("(?s)sticky: several masters are running, name one: .*\\b"
                            + pid + "\\b.*"), found.toString());

            Run stop = cli("stop", pid);
            assertEquals(new Run(0, "stopping\nstopped\n"), stop);
            Integer code = cluster.waitForExit(Duration.ofSeconds(10));
            assertNotNull(code);
            assertEquals(0, code.intValue());
        }
    }

    /** The master's sockets are not in java.io.tmpdir, which the application's command line may move. */
    @Test
    void theCommandLineFindsAMasterStartedWithAnotherTempDirectory() throws Exception {
        Path elsewhere = Files.createTempDirectory("elsewhere");
        try (Cluster cluster = Cluster.withAgent("workers=1", List.of("-Djava.io.tmpdir=" + elsewhere),
                HttpServerApp.class, "0")) {
            cluster.awaitPort(1);
            String pid = Long.toString(cluster.process().pid());
            Run status = cli("status", pid);
            assertEquals(0, status.code(), status.toString());
            assertTrue(status.output().startsWith("sticky master " + pid + ","), status.toString());
        } finally {
            Files.delete(elsewhere);
        }
    }

    /**
     * Anyone may make {@code /tmp/sticky-<uid>} before the user's first
     * master, or lay a link there: the master does not use it, does not stop
     * either, and the command line finds it where it went instead.
     */
    @ParameterizedTest
    @ValueSource(strings = {"another user's", "a link"})
    void aTrapInThePerUserDirectorysPlaceNeitherStopsTheMasterNorHidesIt(String trap) throws Exception {
        assumeTrue(Files.getAttribute(Path.of("/proc/self"), "unix:uid").equals(0),
                "needs root, to make a directory of another user's (CI runs as root)");
        int uid = (int) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        Path parent = Files.createTempDirectory("shared-tmp");
        Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("rwxrwxrwx")); // as /tmp
        Path squat = parent.resolve("sticky-" + uid);
        Path bait = Files.createDirectory(parent.resolve("bait"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx------")));
        if (trap.equals("a link")) {
            Files.createSymbolicLink(squat, bait);
        } else {
            Files.createDirectory(squat, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Files.setOwner(squat, squat.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
        }
        Map<String, String> env = Map.of("TMPDIR", parent.toString());
        try (Cluster cluster = Cluster.withAgent("workers=2", env, HttpServerApp.class, "0")) {
            int port = cluster.awaitPort(2);
            assertTrue(Clients.http(InetAddress.getByName("127.0.0.1"), port).startsWith("pid="));
            String pid = Long.toString(cluster.process().pid());
            cluster.await(l -> l.contains("WARN sticky - " + squat + " is not a private directory of user " + uid)
                    && l.contains("this master's sockets are in " + parent.resolve("sticky-" + uid + ".")), 1, Cluster.START);
            try (Stream<Path> left = Files.list(squat)) {
                assertEquals(0, left.count(), "nothing of the master's in the trap");
            }
            Run status = cli(env, "status", pid);
            assertEquals(0, status.code(), status.toString());
            assertTrue(status.output().startsWith("sticky master " + pid + ","), status.toString());
            assertEquals(new Run(0, "stopping\nstopped\n"), cli(env, "stop", pid));
        } finally {
            try (Stream<Path> all = Files.walk(parent)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
                    Files.delete(p);
                }
            }
        }
    }

    @Test
    void exitCodesForScripts() throws Exception {
        assertEquals(3, cli("status", "999999999").code(), "no such master");
        assertEquals(2, cli("restart").code(), "unknown command");
        assertEquals(2, cli("stop", "--json").code(), "--json is for status");
        assertEquals(2, cli("status", "--wait").code(), "--wait is for reload");
        Run help = cli();
        assertEquals(0, help.code());
        assertTrue(help.output().contains("java -javaagent:sticky.jar=workers=4"), help.output());
        assertEquals(help, cli("--help"));
        // Every option the agent takes (the README's table) is in the help.
        for (String key : List.of("workers", "log", "shutdown-timeout", "metrics", "route", "trust", "dispatch", "cpus",
                "max-memory", "max-lifetime", "watchdog", "health", "private", "memory", "proxy-header", "cds")) {
            assertTrue(Pattern.compile("(?m)^\\s+" + key + "=").matcher(help.output()).find(), key + ": " + help.output());
        }
        assertEquals(new Run(0, "sticky " + System.getProperty("sticky.version") + "\n"), cli("--version"));
    }

    /** A scraper that sends half a request holds no thread for long and delays no other scrape. */
    @Test
    void aHalfSentRequestDelaysNoScrapeAndIsDropped() throws Exception {
        int metricsPort = JvmPortsTest.freePorts(1);
        try (Cluster cluster = Cluster.withAgent("workers=1,metrics=" + metricsPort, HttpServerApp.class, "0")) {
            cluster.awaitPort(1);
            try (Socket half = new Socket("127.0.0.1", metricsPort)) {
                half.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
                half.getOutputStream().flush();
                for (int i = 0; i < 3; i++) {
                    URLConnection scrape = new URL("http://127.0.0.1:" + metricsPort + "/metrics").openConnection();
                    scrape.setConnectTimeout(5000);
                    scrape.setReadTimeout(5000);
                    try (InputStream in = scrape.getInputStream()) {
                        assertTrue(new String(in.readAllBytes(), StandardCharsets.UTF_8).contains("sticky_workers 1\n"));
                    }
                }
                half.setSoTimeout(30_000);
                assertEquals(-1, half.getInputStream().read(), "the half-sent request is dropped, unanswered");
            }
        }
    }

    @Test
    void metricsAndJmxBeansInTheMaster() throws Exception {
        int metricsPort = JvmPortsTest.freePorts(1);
        try (Cluster cluster = Cluster.withAgent("workers=2,metrics=" + metricsPort, HttpServerApp.class, "0")) {
            int port = cluster.awaitPort(2);
            Routing.assertSticky(cluster, port, ServerApisTest.sources(), 2, Clients::http);
            String metrics;
            try (InputStream in = new URL("http://127.0.0.1:" + metricsPort + "/metrics").openStream()) {
                metrics = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            assertTrue(metrics.contains("# TYPE sticky_connections_dispatched_total counter\n"), metrics);
            long total = metrics.lines().filter(l -> l.startsWith("sticky_connections_dispatched_total{"))
                    .mapToLong(l -> Long.parseLong(l.substring(l.lastIndexOf(' ') + 1))).sum();
            assertEquals(2L * ServerApisTest.sources().size(), total, metrics);
            assertTrue(metrics.contains("sticky_worker_up{worker=\"1\"} 1\nsticky_worker_up{worker=\"2\"} 1\n"), metrics);
            assertTrue(metrics.contains("sticky_worker_replacements_total{worker=\"2\",reason=\"memory\"} 0\n"), metrics);

            VirtualMachine vm = VirtualMachine.attach(Long.toString(cluster.process().pid()));
            try (JMXConnector jmx = JMXConnectorFactory.connect(new JMXServiceURL(vm.startLocalManagementAgent()))) {
                var beans = jmx.getMBeanServerConnection();
                Set<Long> workers = cluster.workers().stream().map(ProcessHandle::pid).collect(Collectors.toSet());
                for (int id = 1; id <= 2; id++) {
                    ObjectName name = new ObjectName("dev.sticky:type=Worker,id=" + id);
                    assertTrue(workers.contains((Long) beans.getAttribute(name, "Pid")));
                    assertEquals("serving", beans.getAttribute(name, "State"));
                    assertEquals(null, beans.getAttribute(name, "LastReplaced"));
                    var replacements = (javax.management.openmbean.TabularData) beans.getAttribute(name, "Replacements");
                    assertEquals(5, replacements.size(), "a count for each reason");
                    assertEquals(0, replacements.get(new Object[] {"hang"}).get("value"));
                }
                ObjectName clusterBean = new ObjectName("dev.sticky:type=Cluster");
                assertEquals(2, beans.getAttribute(clusterBean, "Workers"));
                assertEquals(2L * ServerApisTest.sources().size(), beans.getAttribute(clusterBean, "ConnectionsDispatched"));
            } finally {
                vm.detach();
            }
        }
    }
}
