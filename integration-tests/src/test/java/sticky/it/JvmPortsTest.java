package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.RuntimeMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sticky.it.apps.PrivatePortApp;
import sticky.it.apps.SelectorApp;

/** JVM options that open ports of their own: each worker gets its own port, the id added. */
@Timeout(180)
class JvmPortsTest {
    @Test
    void theDebuggerAndJmxListenOnTheirPortPlusTheWorkerId() throws Exception {
        int jdwp = freePorts(3);
        int jmx = freePorts(3);
        List<String> jvm = List.of(
                "-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=127.0.0.1:" + jdwp,
                "-Dcom.sun.management.jmxremote.port=" + jmx, "-Dcom.sun.management.jmxremote.rmi.port=" + jmx,
                "-Dcom.sun.management.jmxremote.authenticate=false", "-Dcom.sun.management.jmxremote.ssl=false",
                "-Dcom.sun.management.jmxremote.host=127.0.0.1", "-Djava.rmi.server.hostname=127.0.0.1");
        try (Cluster cluster = Cluster.withAgent("workers=2", jvm, SelectorApp.class, "0")) {
            int port = cluster.awaitPort(2);
            Routing.assertSticky(cluster, port, ServerApisTest.sources(), 1, Clients::line);
            for (MasterStatus.Worker w : cluster.awaitServing(2).workers()) {
                assertEquals("JDWP-Handshake", jdwpHandshake(jdwp + w.id()), "debugger of worker " + w.id());
                assertEquals(w.pid(), jmxPid(jmx + w.id()), "JMX of worker " + w.id());
            }
            assertEquals("JDWP-Handshake", jdwpHandshake(jdwp), "the master keeps the debugger port as given");
        }
    }

    /**
     * private=PORT: a management port is not clustered (a scrape that lands
     * on one worker would see one worker's figures as the whole): each worker
     * binds it plus its id, status lists them, and a rolling restart's
     * replacement takes its slot's port over.
     */
    @Test
    void aPrivatePortIsEachWorkersOwnAtThePortPlusItsId() throws Exception {
        int management = freePorts(3);
        try (Cluster cluster = Cluster.withAgent("workers=2,private=" + management, PrivatePortApp.class, "0",
                Integer.toString(management))) {
            cluster.awaitPort(2);
            cluster.await(l -> l.equals("private " + (management + 1)) || l.equals("private " + (management + 2)), 2,
                    Cluster.START);
            MasterStatus status = cluster.awaitStatus(s -> s.workers().size() == 2);
            for (int id = 1; id <= 2; id++) {
                assertEquals(Long.toString(status.worker(id).pid()), Clients.field(Clients.http(
                        InetAddress.getByName("127.0.0.1"), management + id), "pid"), "worker " + id + "'s own port");
            }
            assertThrows(java.net.ConnectException.class, () -> Clients.http(InetAddress.getByName("127.0.0.1"),
                    management), "nobody binds the port itself");
            MasterStatus json = MasterStatus.parse(OperatorTest.cli("status", "--json",
                    Long.toString(cluster.process().pid())).output());
            assertEquals(List.of(management + 1), json.worker(1).ports());
            assertEquals(List.of(management + 2), json.worker(2).ports());
            String text = OperatorTest.cli("status", Long.toString(cluster.process().pid())).output();
            assertTrue(text.contains("private port " + management + ": worker 1 on " + (management + 1) + ", worker 2 on "
                    + (management + 2) + "\n"), text);

            Set<Long> old = Set.of(status.worker(1).pid(), status.worker(2).pid());
            cluster.signal("HUP");
            MasterStatus after = cluster.awaitStatus(MasterStatus.replacedAll(old));
            for (int id = 1; id <= 2; id++) {
                assertEquals(Long.toString(after.worker(id).pid()), Clients.field(Clients.http(
                        InetAddress.getByName("127.0.0.1"), management + id), "pid"), "the replacement's, on the same port");
            }
        }
    }

    /**
     * A real Prometheus scrapes the private ports, its targets written by the
     * README's command (status --json through jq, into a file_sd file): it
     * sees each worker apart, one series per worker pid.
     */
    @Test
    void prometheusScrapesEachWorkerOnItsPrivatePort() throws Exception {
        int management = freePorts(3);
        int web = freePorts(1);
        Path dir = Files.createTempDirectory("prometheus");
        Process prometheus = null;
        try (Cluster cluster = Cluster.withAgent("workers=2,private=" + management, PrivatePortApp.class, "0",
                Integer.toString(management))) {
            cluster.awaitPort(2);
            MasterStatus status = cluster.awaitStatus(s -> s.workers().size() == 2);
            String jq = "[{targets: [.workers[].ports[] | \"127.0.0.1:\\(.)\"], labels: {job: \"app\"}}]";
            Process sd = new ProcessBuilder("sh", "-c", Cluster.JAVA + " -jar " + Cluster.JAR + " status --json "
                    + cluster.process().pid() + " | jq '" + jq + "' > " + dir.resolve("app.json")).inheritIO().start();
            assertEquals(0, sd.waitFor(), "the README's file_sd command");
            Files.writeString(dir.resolve("prometheus.yml"), "global: {scrape_interval: 1s}\n"
                    + "scrape_configs:\n  - job_name: app\n    file_sd_configs: [{files: ['" + dir.resolve("app.json")
                    + "'], refresh_interval: 1s}]\n");
            prometheus = new ProcessBuilder("prometheus", "--config.file=" + dir.resolve("prometheus.yml"),
                    "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + web)
                    .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
            Set<String> expected = Set.of(Long.toString(status.worker(1).pid()), Long.toString(status.worker(2).pid()));
            Set<String> seen = Set.of();
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
            while (!seen.equals(expected) && System.nanoTime() < deadline) { // until two scrapes have landed
                Thread.sleep(500);
                seen = pidsSeen(web);
            }
            assertEquals(expected, seen, "one series per worker: " + Files.readString(dir.resolve("prometheus.log")));
        } finally {
            if (prometheus != null) {
                prometheus.destroy();
                prometheus.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
            }
            try (var all = Files.walk(dir)) {
                all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** The values of app_pid Prometheus has now, or nothing while it is not up yet. */
    private static Set<String> pidsSeen(int web) {
        try (InputStream in = new java.net.URL("http://127.0.0.1:" + web + "/api/v1/query?query=app_pid").openStream()) {
            // {"status":"success","data":{"resultType":"vector","result":[{"metric":{...},"value":[time,"pid"]}]}}
            Set<String> pids = new java.util.HashSet<>();
            new com.fasterxml.jackson.databind.ObjectMapper().readTree(in).path("data").path("result")
                    .forEach(series -> pids.add(series.path("value").path(1).asText()));
            return pids;
        } catch (IOException notYet) {
            return Set.of();
        }
    }

    private static String jdwpHandshake(int port) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout(20_000);
            socket.getOutputStream().write("JDWP-Handshake".getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readNBytes(14), StandardCharsets.US_ASCII);
        }
    }

    private static long jmxPid(int port) throws IOException {
        JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + port + "/jmxrmi");
        try (JMXConnector connector = JMXConnectorFactory.connect(url)) {
            return ManagementFactory.newPlatformMXBeanProxy(connector.getMBeanServerConnection(),
                    ManagementFactory.RUNTIME_MXBEAN_NAME, RuntimeMXBean.class).getPid();
        }
    }

    /**
     * A port p such that p to p + count - 1 are free now, on every address
     * (the wildcard, as the applications bind them), and below the kernel's
     * ephemeral range, where no client socket of the tests' (bound to one of
     * many loopback addresses with port 0) can take one before it is used: a
     * probe on 127.0.0.1 alone missed those, and a worker's bind of a
     * management port then failed.
     */
    static int freePorts(int count) throws IOException {
        // readAllLines: Files.readString gives one character of this proc file (JDK 17)
        int ephemeral = Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0)
                .trim().split("\\s+")[0]);
        int low = Math.min(10_000, ephemeral / 2);
        java.util.Random random = new java.util.Random();
        while (true) {
            int base = low + random.nextInt(ephemeral - low - count);
            List<ServerSocket> held = new ArrayList<>();
            try {
                for (int p = base; p < base + count; p++) {
                    ServerSocket s = new ServerSocket();
                    held.add(s);
                    s.bind(new InetSocketAddress(p));
                }
                return base;
            } catch (IOException taken) {
                // try another range
            } finally {
                for (ServerSocket s : held) {
                    s.close();
                }
            }
        }
    }
}
