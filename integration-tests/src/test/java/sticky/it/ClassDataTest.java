package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sticky.it.apps.NettyApp;
import sticky.it.apps.PlainHttpApp;

/**
 * cds=on (the default): on JDK 25, a worker that leaves (here at a rolling
 * restart) leaves the class data it loaded, as an AOT cache, and the workers
 * started after it map it: the rest of the restart, a respawn, and every
 * worker of the next master. A broken cache, and one of an earlier build of
 * the jar, never stop a worker from starting. Netty classes the cache loads
 * before the agent runs are clustered all the same. Not for a Spring Boot
 * executable jar, whose classes the cache cannot hold. Before JDK 25 sharing is off
 * and says why. The application is a jar (HotSpot caches classes from jar
 * files only); TMPDIR is the test's own, so that the cache is too.
 */
@Timeout(300)
class ClassDataTest {
    @Test
    void workersStartedAfterAWorkerLeftShareWhatItLoaded() throws Exception {
        Path tmp = Files.createTempDirectory("sticky-cds");
        try {
            Path jar = appJar(tmp.resolve("app.jar"));
            Map<String, String> env = Map.of("TMPDIR", tmp.toString());
            Path cacheDir = tmp.resolve("sticky-" + uid()).resolve("cds");
            if (Runtime.version().feature() < 25) {
                try (Cluster cluster = Cluster.withAgentOnClassPath("workers=2,log=debug", env, jar.toString(),
                        PlainHttpApp.class, "0")) {
                    cluster.awaitPort(2);
                    cluster.await(l -> l.contains("class data sharing between workers is off: it needs the AOT cache of "
                            + "JDK 25"), 1, Cluster.START);
                    for (ProcessHandle w : cluster.workers()) {
                        assertFalse(commandLine(w).contains("-XX:AOT"), commandLine(w));
                    }
                }
                return;
            }

            Path cache;
            try (Cluster cluster = Cluster.withAgentOnClassPath("workers=2", env, jar.toString(), PlainHttpApp.class, "0")) {
                int port = cluster.awaitPort(2);
                List<ProcessHandle> first = cluster.workers();
                assertEquals(1, first.stream().filter(w -> commandLine(w).contains("-XX:AOTMode=record")).count(),
                        "one worker records, the first: " + first.stream().map(ClassDataTest::commandLine).toList());
                assertEquals(Set.of(), caches(cacheDir), "no cache before a worker left");
                servedByEveryWorker(cluster, port);

                assertEquals(null, cluster.reloadAndWait());
                cache = awaitCache(cacheDir); // made once the recording worker has left
                MasterStatus reloaded = cluster.awaitServing(2);
                ProcessHandle victim = ProcessHandle.of(reloaded.worker(1).pid()).orElseThrow();
                victim.destroyForcibly();
                victim.onExit().join();
                MasterStatus respawnedStatus = cluster.awaitStatus(MasterStatus.replaced(1, victim.pid()));
                cluster.awaitServing(2);
                ProcessHandle respawned = ProcessHandle.of(respawnedStatus.worker(1).pid()).orElseThrow();
                assertTrue(maps(respawned, cache), "the respawned worker maps " + cache);
                servedByEveryWorker(cluster, port);
                assertFalse(cluster.output().contains("[warning]"), "HotSpot's CDS warnings are not the application's");
            }

            // The next master, same command: every worker maps the cache from its start, and none records.
            try (Cluster cluster = Cluster.withAgentOnClassPath("workers=2", env, jar.toString(), PlainHttpApp.class, "0")) {
                int port = cluster.awaitPort(2);
                for (ProcessHandle w : cluster.workers()) {
                    assertTrue(maps(w, cache), w.pid() + " maps " + cache);
                    assertFalse(commandLine(w).contains("AOTMode=record"), commandLine(w));
                }
                servedByEveryWorker(cluster, port);
            }

            // A broken cache: the workers start without it and serve; it is removed, and a respawn records again.
            byte[] garbage = new byte[100_000];
            new Random(1).nextBytes(garbage);
            Files.write(cache, garbage);
            try (Cluster cluster = Cluster.withAgentOnClassPath("workers=2", env, jar.toString(), PlainHttpApp.class, "0")) {
                int port = cluster.awaitPort(2);
                servedByEveryWorker(cluster, port);
                awaitNoCache(cacheDir); // the broken cache is removed by the workers the JVM started without it
                long victim = cluster.awaitServing(2).worker(1).pid();
                ProcessHandle.of(victim).orElseThrow().destroyForcibly();
                ProcessHandle.of(victim).ifPresent(p -> p.onExit().join());
                cluster.awaitStatus(MasterStatus.replaced(1, victim));
                cluster.awaitServing(2);
                assertEquals(1, cluster.workers().stream().filter(w -> commandLine(w).contains("AOTMode=record")).count(),
                        "the respawned worker records a new cache");
                servedByEveryWorker(cluster, port);
            }
            Path remade = single(caches(cacheDir));
            assertEquals(cache, remade, "the stop made it again, under the same name");

            // A new build of the jar: a cache of its own; the old one is neither used nor kept.
            Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 60_000));
            try (Cluster cluster = Cluster.withAgentOnClassPath("workers=2", env, jar.toString(), PlainHttpApp.class, "0")) {
                int port = cluster.awaitPort(2);
                for (ProcessHandle w : cluster.workers()) {
                    assertFalse(maps(w, cache), w.pid() + " maps the cache of the earlier build");
                }
                servedByEveryWorker(cluster, port);
            }
            Path rebuilt = single(caches(cacheDir));
            assertNotEquals(cache, rebuilt, "a new build, a new cache");

            // Netty: the cache loads its classes at VM start, and with them some that sticky rewrites (the
            // training run skipped them for that), before the agent runs; they are rewritten still.
            String netty = jar + File.pathSeparator + libraries();
            try (Cluster cluster = Cluster.withAgentOnClassPath("workers=2", env, netty, NettyApp.class, "0")) {
                cluster.awaitPort(2); // the training run; its stop makes the cache
            }
            Set<Path> nettyCache = new HashSet<>(caches(cacheDir));
            nettyCache.remove(rebuilt);
            Path nettys = single(nettyCache);
            try (Cluster cluster = Cluster.withAgentOnClassPath("workers=2", env, netty, NettyApp.class, "0")) {
                int port = cluster.awaitPort(2); // one port: both workers bound it through the master
                for (ProcessHandle w : cluster.workers()) {
                    assertTrue(maps(w, nettys), w.pid() + " maps " + nettys);
                }
                servedByEveryWorker(cluster, port);
            }

            // A Spring Boot executable jar: its classes come from nested jars, which the cache cannot hold,
            // and a cache without them cost workers more memory than it saved them time: off, and it says so.
            Path boot = Path.of(System.getProperty("sticky.spring.boot.app"));
            try (Cluster cluster = Cluster.withAgentOnJar("workers=2", env, boot, "--server.port=0")) {
                cluster.awaitPort(2);
                cluster.await(l -> l.contains("class data sharing between workers is off: a Spring Boot executable "
                        + "jar (org.springframework.boot.loader."), 1, Cluster.START);
                for (ProcessHandle w : cluster.workers()) {
                    assertFalse(commandLine(w).contains("-XX:AOT"), commandLine(w));
                }
            }
        } finally {
            try (Stream<Path> files = Files.walk(tmp)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** Waits until the cache directory holds one cache (made off the master's loop, once a recorder left): it. */
    private static Path awaitCache(Path cacheDir) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Cluster.START.toNanos();
        while (caches(cacheDir).isEmpty()) {
            assertTrue(System.nanoTime() < deadline, "no class data cache was made in " + cacheDir);
            Thread.sleep(50);
        }
        return single(caches(cacheDir));
    }

    private static void awaitNoCache(Path cacheDir) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Cluster.START.toNanos();
        while (!caches(cacheDir).isEmpty()) {
            assertTrue(System.nanoTime() < deadline, "the cache is still in " + cacheDir + ": " + caches(cacheDir));
            Thread.sleep(50);
        }
    }

    /** The applications' libraries (Netty and the rest), jars all. */
    private static String libraries() throws IOException {
        try (Stream<Path> libs = Files.list(Path.of(System.getProperty("sticky.app.libs")))) {
            return libs.map(Path::toString).sorted().collect(Collectors.joining(File.pathSeparator));
        }
    }

    /** A jar of the test applications' classes: what a user runs. */
    /**
     * A temporary directory with no room for a cache (a 1 MiB tmpfs): sticky
     * says so once, in its log, makes no cache, and no JVM of the cluster
     * prints "Unable to use AOT cache" on the application's output.
     */
    @Test
    @org.junit.jupiter.api.condition.EnabledForJreRange(min = org.junit.jupiter.api.condition.JRE.JAVA_25)
    void aTemporaryDirectoryWithNoRoomForACacheIsSaidOnceAndNoWorkerTriesOne() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(uid() == 0, "needs root, to mount a small tmpfs (CI runs as root)");
        Path tmp = Files.createTempDirectory("sticky-cds-full");
        Path jar = appJar(Files.createTempDirectory("sticky-cds-jar").resolve("app.jar"));
        assertEquals(0, new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", tmp.toString()).inheritIO()
                .start().waitFor());
        try {
            try (Cluster cluster = Cluster.withAgentOnClassPath("workers=2", Map.of("TMPDIR", tmp.toString()),
                    jar.toString(), PlainHttpApp.class, "0")) {
                int port = cluster.awaitPort(2);
                assertEquals(null, cluster.reloadAndWait()); // where the first worker would have left a cache
                servedByEveryWorker(cluster, port);
                for (ProcessHandle w : cluster.workers()) {
                    assertFalse(commandLine(w).contains("-XX:AOT"), commandLine(w));
                }
                assertEquals(1, cluster.output().lines().filter(l -> l.contains("class data sharing between workers is "
                        + "off: " + tmp.resolve("sticky-0").resolve("cds") + " has ")).count(), cluster.output());
                assertFalse(cluster.output().contains("Unable to use AOT cache"), cluster.output());
            }
        } finally {
            new ProcessBuilder("umount", tmp.toString()).inheritIO().start().waitFor();
            Files.delete(tmp);
            Directories.delete(jar.getParent());
        }
    }

    private static Path appJar(Path jar) throws IOException {
        Path classes = Path.of(System.getProperty("sticky.apps"));
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file);
                Stream<Path> all = Files.walk(classes)) {
            for (Path p : all.filter(Files::isRegularFile).sorted().toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(p).toString().replace('\\', '/')));
                out.write(Files.readAllBytes(p));
                out.closeEntry();
            }
        }
        return jar;
    }

    /** 32 clients from their own addresses: each answered, and every worker among those answering. */
    private static void servedByEveryWorker(Cluster cluster, int port) throws IOException {
        Set<String> pids = new HashSet<>();
        for (InetAddress source : Clients.ipv4(32)) {
            pids.add(Clients.field(Clients.http(source, port), "pid"));
        }
        Set<String> workers = cluster.workers().stream().map(p -> Long.toString(p.pid())).collect(Collectors.toSet());
        assertEquals(workers, pids, "every worker serves");
    }

    private static Set<Path> caches(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return Set.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".aot")).collect(Collectors.toSet());
        }
    }

    private static Path single(Set<Path> caches) {
        assertEquals(1, caches.size(), "one cache: " + caches);
        return caches.iterator().next();
    }

    private static boolean maps(ProcessHandle process, Path file) throws IOException {
        String real = file.toRealPath().toString();
        try (Stream<String> maps = Files.lines(Path.of("/proc/" + process.pid() + "/maps"))) {
            return maps.anyMatch(l -> l.endsWith(" " + real));
        }
    }

    private static String commandLine(ProcessHandle process) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc/" + process.pid() + "/cmdline")), StandardCharsets.UTF_8)
                    .replace('\0', ' ');
        } catch (IOException e) {
            return "(gone: " + e + ")";
        }
    }

    private static int uid() throws IOException {
        return (int) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }
}
