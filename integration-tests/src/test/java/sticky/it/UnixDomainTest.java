package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sticky.it.apps.UnixDomainApp;

/**
 * A Unix-domain server socket on a fixed path: the master binds it once and
 * every worker accepts from it (without sticky only the first worker could
 * bind). The application deletes the socket file before it binds, in every
 * worker and in a restarted one, and still every worker serves on the path.
 */
@Timeout(180)
class UnixDomainTest {
    @Test
    void everyWorkerAcceptsFromTheOneSocketOnThePath() throws Exception {
        Path dir = Files.createTempDirectory("unix-domain");
        Path socket = dir.resolve("app.sock");
        try (Cluster cluster = Cluster.withAgent("workers=2", UnixDomainApp.class, socket.toString())) {
            cluster.await(l -> l.equals("unix " + socket), 2, Cluster.START);
            assertEquals(pids(cluster), servedBy(socket, 40), "both workers accept");

            ProcessHandle victim = cluster.workers().get(0);
            victim.destroyForcibly();
            victim.onExit().join();
            cluster.await(l -> l.equals("unix " + socket), 3, Cluster.START);
            assertTrue(cluster.output().contains("unix " + socket + ": the path was deleted; linked it to the master's "
                    + "socket again"), "the successor deleted the path before it bound: " + cluster.output());
            assertEquals(pids(cluster), servedBy(socket, 40), "both workers accept after a restart");
            assertFalse(cluster.output().contains("BindException"), cluster.output());
        }
        try {
            try (Stream<Path> left = Files.list(dir)) {
                Set<String> names = left.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
                assertEquals(Set.of("app.sock"), names, "the master removed its link; the path stays, as the JDK leaves it");
            }
        } finally {
            Directories.delete(dir);
        }
    }

    private static Set<String> pids(Cluster cluster) {
        return cluster.workers().stream().map(p -> Long.toString(p.pid())).collect(Collectors.toSet());
    }

    /** The pids that answered count connections to path, one after another; each must be answered. */
    static Set<String> servedBy(Path path, int count) throws IOException {
        Set<String> pids = new HashSet<>();
        for (int i = 0; i < count; i++) {
            try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                channel.connect(UnixDomainSocketAddress.of(path));
                ByteBuffer answer = ByteBuffer.allocate(64);
                while (channel.read(answer) >= 0) {
                    // until the server closes
                }
                String line = new String(answer.array(), 0, answer.position(), StandardCharsets.UTF_8).trim();
                assertTrue(line.startsWith("pid="), "connection " + i + ": '" + line + "'");
                pids.add(line.substring(4));
            }
        }
        return pids;
    }
}
