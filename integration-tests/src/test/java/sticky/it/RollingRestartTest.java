package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sticky.it.apps.GracefulHttpApp;
import sticky.it.apps.VersionApp;

/** SIGHUP replaces every worker, one at a time, while clients keep coming: no request fails. */
@Timeout(240)
class RollingRestartTest {
    @Test
    void noRequestFailsDuringARollingRestartUnderLoad() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2", GracefulHttpApp.class, "0")) {
            int port = cluster.awaitPort(2);
            List<InetAddress> sources = Clients.ipv4(8);
            Set<Long> oldWorkers = cluster.workers().stream().map(ProcessHandle::pid).collect(Collectors.toSet());
            long requestsDuringRestart;
            try (Load load = new Load(port, sources.subList(0, 4), sources.subList(4, 8))) {
                while (load.requests() < 200) {
                    Thread.sleep(10); // load is flowing
                }
                long before = load.requests();
                assertEquals(null, cluster.reloadAndWait());
                cluster.awaitStatus(MasterStatus.replacedAll(oldWorkers));
                requestsDuringRestart = load.requests() - before;
                long after = load.requests();
                while (load.requests() < after + 200) {
                    Thread.sleep(10); // and still flowing on the new workers
                }
                load.close();
                assertEquals(List.of(), load.failures());
            }
            assertTrue(cluster.output().lines().noneMatch(l -> l.contains("exited with code")),
                    "no worker may fail during the restart: " + cluster.output());
            Set<Long> newWorkers = cluster.workers().stream().map(ProcessHandle::pid).collect(Collectors.toSet());
            assertEquals(2, newWorkers.size());
            assertTrue(java.util.Collections.disjoint(oldWorkers, newWorkers), "every worker was replaced");
            Map<InetAddress, String> after = Routing.assertSticky(cluster, port, sources, 2, Clients::http);
            assertTrue(newWorkers.containsAll(after.values().stream().map(Long::parseLong).collect(Collectors.toSet())));
            System.out.println("rolling restart: " + requestsDuringRestart + " requests served during it, none failed");
        }
    }

    @Test
    void aJarReplacedOnDiskIsWhatTheRestartedWorkersRun() throws Exception {
        Path dir = Files.createTempDirectory("sticky-deploy");
        Path jar = dir.resolve("app.jar");
        try {
            writeVersionJar(jar, "v1");
            try (Cluster cluster = Cluster.withAgentOnJar("workers=2", jar, "0")) {
                int port = cluster.awaitPort(2);
                assertVersion(port, "v1");
                // Deploy as users do: write the new jar beside it, move it over the old one, SIGHUP.
                Path next = dir.resolve("app.jar.new");
                writeVersionJar(next, "v2");
                Files.move(next, jar, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                Set<Long> v1 = cluster.workers().stream().map(ProcessHandle::pid).collect(Collectors.toSet());
                cluster.signal("HUP");
                cluster.awaitStatus(MasterStatus.replacedAll(v1));
                assertVersion(port, "v2");
            }
        } finally {
            Directories.delete(dir);
        }
    }

    private static void assertVersion(int port, String version) throws Exception {
        for (InetAddress source : ServerApisTest.sources()) {
            assertEquals(version, Clients.field(Clients.line(source, port), "version"), "from " + source);
        }
    }

    /** A runnable jar of VersionApp, built from this module's compiled classes, with version.txt. */
    private static void writeVersionJar(Path jar, String version) throws Exception {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, VersionApp.class.getName());
        String entry = VersionApp.class.getName().replace('.', '/') + ".class";
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            out.putNextEntry(new JarEntry(entry));
            out.write(Files.readAllBytes(Path.of(System.getProperty("sticky.apps"), entry)));
            out.putNextEntry(new JarEntry("version.txt"));
            out.write(version.getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void aReplacementThatCannotStartLeavesTheOldWorkerServing() throws Exception {
        // The "new version" fails at start: BreakableApp reads a marker file, as a broken deploy.
        Path broken = Files.createTempFile("sticky-broken", ".marker");
        Files.delete(broken);
        try (Cluster cluster = Cluster.withAgent("workers=2", sticky.it.apps.BreakableApp.class, "0", broken.toString())) {
            int port = cluster.awaitPort(2);
            Set<Long> workers = cluster.workers().stream().map(ProcessHandle::pid).collect(Collectors.toSet());
            Files.writeString(broken, "the next start fails");
            OperatorTest.Run reload = OperatorTest.cli("reload", "--wait", Long.toString(cluster.process().pid()));
            assertEquals(1, reload.code(), reload.output());
            assertTrue(reload.output().matches("worker 1: replacement pid \\d+ exited with code 3; pid \\d+ keeps serving\n"),
                    reload.output());
            MasterStatus status = cluster.status();
            assertEquals("stopped", status.reload().state());
            assertEquals(reload.output().trim(), status.reload().why());
            assertEquals(workers, cluster.workers().stream().map(ProcessHandle::pid).collect(Collectors.toSet()));
            Routing.assertSticky(cluster, port, ServerApisTest.sources(), 2, Clients::line);
        } finally {
            Files.deleteIfExists(broken);
        }
    }

}
