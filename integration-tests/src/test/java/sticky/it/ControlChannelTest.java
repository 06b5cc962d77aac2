package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sticky.it.apps.SelectorApp;

/**
 * The control socket hands live client connections to registered workers, so
 * nobody else may register: strangers, hostile bytes and other users are
 * refused and logged, and the master keeps serving.
 */
@Timeout(180)
class ControlChannelTest {
    static Path controlSocket(Cluster cluster) throws Exception {
        return cluster.directory().resolve("control");
    }

    static String secretOf(ProcessHandle worker) throws Exception {
        String environ = Files.readString(Path.of("/proc", Long.toString(worker.pid()), "environ"));
        return Stream.of(environ.split("\0")).filter(e -> e.startsWith("STICKY_SECRET=")).findFirst().orElseThrow()
                .substring("STICKY_SECRET=".length());
    }

    /** A Hello as a worker of sticky.jar's protocol sends it: 'W' version id secret pid (see Protocol). */
    static byte[] hello(int worker, String secret) throws IOException {
        byte[] s = secret.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(1 + 4 + 4 + 2 + s.length + 8).put((byte) 'W').putInt(protocol()).putInt(worker)
                .putShort((short) s.length).put(s).putLong(1).array();
    }

    /** The protocol version sticky.jar's manifest names. */
    static int protocol() throws IOException {
        try (java.util.jar.JarFile jar = new java.util.jar.JarFile(Cluster.JAR.toFile())) {
            return Integer.parseInt(jar.getManifest().getMainAttributes().getValue("Sticky-Protocol"));
        }
    }

    @Test
    void strangersAndHostileMessagesAreRefusedAndTheMasterKeepsServing() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2", SelectorApp.class, "0")) {
            int port = cluster.awaitPort(2);
            Path socket = controlSocket(cluster);
            String secret = secretOf(cluster.workers().get(0));
            long fdsBefore = openDescriptors(cluster.process().pid());
            Random random = new Random(7);
            byte[] garbage = new byte[300];
            random.nextBytes(garbage);
            byte[] truncated = java.util.Arrays.copyOf(hello(1, secret), 9);
            byte[] huge = new byte[200_000];
            random.nextBytes(huge);
            List<byte[]> hostile = List.of(garbage, truncated, huge, hello(1, "not the secret"), hello(1, ""),
                    hello(99, secret), hello(0, secret), new byte[] {'C', 1, 2, 3});
            for (byte[] message : hostile) {
                try (ControlClient client = new ControlClient(socket)) {
                    client.send(message);
                    assertTrue(client.hungUpWithin(20), "the master must hang up on " + message.length + " bytes");
                }
            }
            // A worker of sticky before versions (protocol 1, 'H' and no version): told why, then hung up on.
            try (ControlClient old = new ControlClient(socket)) {
                byte[] s = secret.getBytes(StandardCharsets.UTF_8);
                old.send(ByteBuffer.allocate(1 + 4 + 2 + s.length + 8).put((byte) 'H').putInt(1)
                        .putShort((short) s.length).put(s).putLong(1).array());
                String answer = new String(old.receiveWithin(20), StandardCharsets.UTF_8);
                assertTrue(answer.startsWith("N") && answer.contains("a worker of protocol 1 cannot join a master of protocol "
                        + protocol()), answer);
                assertTrue(old.hungUpWithin(20));
            }
            for (int i = 0; i < 25; i++) {
                try (ControlClient client = new ControlClient(socket)) {
                    client.sendWithDescriptors(garbage);
                    assertTrue(client.hungUpWithin(20), "the master must hang up on a message with descriptors");
                }
            }
            try (ControlClient silent = new ControlClient(socket)) {
                assertTrue(silent.hungUpWithin(30), "a connection that says nothing must not hold the master");
            }
            MasterStatus status = cluster.awaitStatus(st -> st.refusedControlConnections() >= 34);
            assertEquals(34, status.refusedControlConnections(), cluster.output());
            long fdsAfter = openDescriptors(cluster.process().pid());
            assertTrue(fdsAfter < fdsBefore + 10, "descriptors leaked into the master: " + fdsBefore + " -> " + fdsAfter);
            Routing.assertSticky(cluster, port, ServerApisTest.sources(), 2, Clients::line);
        }
    }

    @Test
    void aProcessOfAnotherUserIsRefusedAndLogged() throws Exception {
        assumeTrue(Files.getAttribute(Path.of("/proc/self"), "unix:uid").equals(0),
                "needs root, to run the master as another user (CI runs as root)");
        try (Cluster cluster = Cluster.withAgent("workers=2",
                List.of(), List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"),
                SelectorApp.class, "0")) {
            int port = cluster.awaitPort(2);
            Path socket = MasterStatus.directoryOf(javaPidOf(cluster), 65534).resolve("control");
            String secret = secretOf(cluster.workers().get(0).children().findFirst().orElse(cluster.workers().get(0)));
            try (ControlClient root = new ControlClient(socket)) { // root passes the directory's mode, not the uid check
                // The master checks the peer's uid at accept and may hang up before the hello is sent.
                root.sendUnlessHungUp(hello(1, secret));
                assertTrue(root.hungUpWithin(20));
            }
            cluster.await(l -> l.matches("WARN sticky - refused a control connection from pid \\d+: user 0 is not the master's"),
                    1, Cluster.START);
            Routing.assertSticky(cluster, port, ServerApisTest.sources(), 2, Clients::line);
        }
    }

    /**
     * A process of the master's own user that read the secret from a
     * worker's environment is no worker (it is not a process the master
     * started): it gets no listener.
     */
    @Test
    void theSecretAloneBindsNothing() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2", SelectorApp.class, "0")) {
            int port = cluster.awaitPort(2);
            String secret = secretOf(cluster.workers().get(0));
            int stolen = JvmPortsTest.freePorts(1);
            try (ControlClient thief = new ControlClient(controlSocket(cluster))) {
                thief.send(bindRequest(1, secret, stolen));
                assertTrue(thief.hungUpWithin(20), "a bind from a process that is no worker is hung up on");
            }
            assertThrows(java.net.ConnectException.class, () -> Clients.connect(InetAddress.getLoopbackAddress(), stolen),
                    "nothing listens on the port it asked for");
            assertEquals(1, cluster.status().refusedControlConnections());
            Routing.assertSticky(cluster, port, ServerApisTest.sources(), 1, Clients::line);
        }
    }

    /**
     * A worker whose control path leads to a socket that is not its
     * master's (laid there by someone else, in a TMPDIR others can write to)
     * sends it nothing, its secret least of all, and says why.
     */
    @Test
    void aWorkerSendsNothingToASocketThatIsNotItsMasters() throws Exception {
        Path dir = Files.createTempDirectory("sticky-planted");
        Path planted = dir.resolve("control");
        int listening = TestLibc.socket(TestLibc.AF_UNIX, TestLibc.SOCK_SEQPACKET, 0);
        try {
            byte[] address = TestLibc.unixAddress(planted.toString());
            assertEquals(0, TestLibc.bind(listening, address, address.length));
            assertEquals(0, TestLibc.listen(listening, 8));
            Files.write(dir.resolve("counts"), new byte[16 * 256]); // a master's directory holds the workers' counts
            // A worker's command and environment, but its parent a shell: the socket's owner is not its parent.
            List<String> command = new java.util.ArrayList<>(List.of("sh", "-c", "\"$@\"; exit $?", "sh"));
            command.addAll(Cluster.commandWithAgent("workers=2", SelectorApp.class, "0"));
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
            builder.environment().putAll(Map.of("STICKY_WORKER_ID", "1", "STICKY_CONTROL", planted.toString(),
                    "STICKY_SECRET", "0123456789abcdef0123456789abcdef"));
            Process worker = builder.start();
            String output = new String(worker.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(worker.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
            assertEquals(1, worker.exitValue(), output);
            assertTrue(output.contains("is not this worker's master's") && output.contains("nothing sent to it"), output);
            int connection = TestLibc.accept(listening, null, null);
            assertTrue(connection >= 0, "the worker connected, and");
            byte[] received = new byte[4096];
            assertEquals(0, TestLibc.recv(connection, received, received.length, 0), "sent nothing before it hung up");
            TestLibc.close(connection);
        } finally {
            TestLibc.close(listening);
            Directories.delete(dir);
        }
    }

    /** A BindRequest as a worker sends it (see Protocol): TCP, the wildcard IPv4 address, port. */
    static byte[] bindRequest(int worker, String secret, int port) {
        byte[] s = secret.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(1 + 4 + 2 + s.length + 1 + 1 + 4 + 4 + 4 + 4 + 1 + 1 + 2).put((byte) 'B').putInt(worker)
                .putShort((short) s.length).put(s).put((byte) 4).put((byte) 4).put(new byte[4]).putInt(port).putInt(0)
                .putInt(0).put((byte) 0).put((byte) 0).putShort((short) 0).array();
    }

    @Test
    void theSecretIsOnNoCommandLine() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2", SelectorApp.class, "0")) {
            cluster.awaitPort(2);
            for (ProcessHandle worker : cluster.workers()) {
                String secret = secretOf(worker);
                assertEquals(32, secret.length());
                String cmdline = Files.readString(Path.of("/proc", Long.toString(worker.pid()), "cmdline"));
                assertFalse(cmdline.contains(secret));
            }
        }
    }

    private static long javaPidOf(Cluster cluster) {
        // setpriv execs java in place: the process the test started is the master itself.
        return cluster.process().pid();
    }

    private static long openDescriptors(long pid) throws Exception {
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return fds.count();
        }
    }
}
