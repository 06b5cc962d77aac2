package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sticky.it.apps.SelectorApp;

/**
 * The rewrite cache (issue 29): the bytes the first worker gives the JDK's
 * server classes are kept in the per-user directory, and later workers of the
 * same JDK and the same sticky.jar define them from there; a cache of another
 * JDK, of another build of sticky.jar, or a damaged one, is never used (its
 * workers rewrite, and serve). Each worker's debug line says which it did;
 * ServerApisTest runs every server API both ways.
 */
@Timeout(240)
class RewriteCacheTest {
    private static final String CACHED = "JDK classes from the rewrite cache";
    private static final String REWRITTEN = "JDK classes rewritten, kept in";

    @Test
    void aCacheOfAnotherJdkOrBuildOrADamagedOneIsNeverUsed() throws Exception {
        Path tmp = Files.createTempDirectory("sticky-rewrites");
        Path classes = tmp.resolve("sticky-" + Files.getAttribute(Path.of("/proc/self"), "unix:uid")).resolve("classes");
        Map<String, String> env = Map.of("TMPDIR", tmp.toString());
        Path agentCopy = tmp.resolve("sticky.jar");
        try {
            Files.copy(Cluster.JAR, agentCopy);
            assertMade(Cluster.withAgentJar(agentCopy, "workers=1,log=debug", env, SelectorApp.class, "0"), REWRITTEN, 1);
            Path cache = single(files(classes));
            assertMade(Cluster.withAgentJar(agentCopy, "workers=2,log=debug", env, SelectorApp.class, "0"), CACHED, 2);

            // Another build of sticky.jar (here: the same bytes, another time): a cache of its own, made anew.
            Files.setLastModifiedTime(agentCopy, FileTime.fromMillis(Files.getLastModifiedTime(agentCopy).toMillis() + 60_000));
            assertMade(Cluster.withAgentJar(agentCopy, "workers=1,log=debug", env, SelectorApp.class, "0"), REWRITTEN, 1);
            assertEquals(2, files(classes).size(), "the other build's cache is beside the first, untouched");

            // A damaged cache: ignored, made again, and served from once made.
            Path current = files(classes).stream().filter(p -> !p.equals(cache)).findFirst().orElseThrow();
            byte[] bytes = Files.readAllBytes(current);
            bytes[bytes.length / 2] ^= 0x5a;
            Files.write(current, bytes);
            assertMade(Cluster.withAgentJar(agentCopy, "workers=1,log=debug", env, SelectorApp.class, "0"), REWRITTEN, 1);
            assertMade(Cluster.withAgentJar(agentCopy, "workers=2,log=debug", env, SelectorApp.class, "0"), CACHED, 2);

            // Another JDK: its own cache; this one's is never read.
            String otherJava = Stream.of("/usr/lib/jvm/temurin-25-jdk-amd64", "/usr/lib/jvm/java-17-openjdk-amd64")
                    .map(Path::of).filter(Files::isDirectory)
                    .filter(p -> !p.toAbsolutePath().normalize().equals(Path.of(System.getProperty("java.home"))))
                    .findFirst().orElseThrow(() -> new AssertionError("a second JDK (scripts/setup installs JDK 17 and 25)"))
                    .resolve("bin/java").toString();
            List<String> command = Cluster.commandWithAgent("workers=1,log=debug", SelectorApp.class, "0");
            command.set(0, otherJava);
            command.replaceAll(a -> a.startsWith("-javaagent:") ? "-javaagent:" + agentCopy + "=workers=1,log=debug" : a);
            assertMade(Cluster.withCommand(command, env), REWRITTEN, 1);
            assertEquals(3, files(classes).size(), "one cache per JDK and build");
        } finally {
            Directories.delete(tmp);
        }
    }

    /**
     * Every worker of cluster made its classes as expected, and serves. (A
     * cache is made by one worker: two that start together without one may
     * find the other's, so it is made with one.)
     */
    private static void assertMade(Cluster cluster, String made, int workers) throws Exception {
        try (cluster) {
            int port = cluster.awaitPort(workers);
            cluster.await(l -> l.contains(made), workers, Cluster.START);
            assertFalse(cluster.output().contains(made.equals(CACHED) ? REWRITTEN : CACHED), cluster.output());
            if (workers > 1) {
                Routing.assertSticky(cluster, port, ServerApisTest.sources(), 2, Clients::line);
            } else {
                assertTrue(Clients.line(java.net.InetAddress.getByName("127.0.0.1"), port).startsWith("pid="));
            }
        }
    }

    private static Set<Path> files(Path dir) throws Exception {
        try (Stream<Path> list = Files.list(dir)) {
            return list.filter(p -> p.getFileName().toString().endsWith(".bin")).collect(Collectors.toSet());
        }
    }

    private static Path single(Set<Path> files) {
        assertEquals(1, files.size(), files.toString());
        return files.iterator().next();
    }
}
