package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import sticky.it.apps.HttpAndUdpApp;

/**
 * A UDP socket on a fixed port is clustered as a server socket is: each
 * worker binds it (without sticky only the first could), and each client's
 * datagrams reach the worker its address hashes to, the one its TCP
 * connections reach; while a worker restarts, what was sent to it waits for
 * its successor.
 */
@Timeout(180)
class UdpTest {
    @ParameterizedTest
    @ValueSource(strings = {"socket", "channel"})
    void eachClientsDatagramsReachItsWorker(String api) throws Exception {
        int udpPort = JvmPortsTest.freePorts(1);
        try (Cluster cluster = Cluster.withAgent("workers=2", HttpAndUdpApp.class, Integer.toString(udpPort), api)) {
            int httpPort = cluster.awaitPort(2);
            cluster.await(l -> l.equals("udp " + udpPort), 2, Cluster.START);
            List<InetAddress> sources = Clients.ipv4(16);
            Map<InetAddress, String> before = Routing.assertSticky(cluster, udpPort, sources, 3, UdpTest::exchange);
            for (InetAddress source : sources) {
                assertEquals(before.get(source), Clients.field(Clients.http(source, httpPort), "pid"),
                        source + ": its datagrams and its connections reach one worker");
            }
            // A worker killed: what was sent to it waits for its successor, which answers it.
            Routing.killAWorkerAndAwaitItsReturn(cluster, udpPort, sources, before, UdpTest::exchange);
            assertFalse(cluster.output().contains("BindException"), cluster.output());
        }
    }

    /**
     * SO_RCVBUF set before bind is the one of the socket the worker gets
     * (its slot's, which the master bound), as a plain JVM has it: Linux
     * doubles the value and clamps it to net.core.rmem_max, so the
     * expected value is what a plain JVM reports here.
     */
    @ParameterizedTest
    @ValueSource(strings = {"socket", "channel"})
    void receiveBufferSetBeforeBindIsTheWorkersSocketsAsWithoutTheAgent(String api) throws Exception {
        Map<String, String> expected = new TreeMap<>();
        Map<String, String> seen = new TreeMap<>();
        List<InetAddress> sources = Clients.ipv4(8);
        for (String size : List.of("4096", "1048576")) {
            int plainPort = JvmPortsTest.freePorts(1);
            try (Cluster plain = Cluster.withoutAgent(HttpAndUdpApp.class, Integer.toString(plainPort), api, size)) {
                plain.await(l -> l.equals("udp " + plainPort), 1, Cluster.START);
                for (InetAddress source : sources) {
                    expected.put(size + " from " + source.getHostAddress(),
                            Clients.field(exchange(source, plainPort), "rcvbuf"));
                }
            }
            int udpPort = JvmPortsTest.freePorts(1);
            try (Cluster cluster = Cluster.withAgent("workers=2", HttpAndUdpApp.class, Integer.toString(udpPort), api,
                    size)) {
                cluster.await(l -> l.equals("udp " + udpPort), 2, Cluster.START);
                for (InetAddress source : sources) {
                    seen.put(size + " from " + source.getHostAddress(),
                            Clients.field(exchange(source, udpPort), "rcvbuf"));
                }
            }
        }
        assertEquals(expected, seen);
    }

    /** One datagram from source to the port on loopback, and its answer. */
    static String exchange(InetAddress source, int port) throws IOException {
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(source, 0))) {
            socket.setSoTimeout(20_000); // as a TCP client waits: a datagram may wait for a restarted worker
            byte[] hello = "hello".getBytes(StandardCharsets.US_ASCII);
            socket.send(new DatagramPacket(hello, hello.length, new InetSocketAddress(Clients.loopbackFor(source), port)));
            DatagramPacket answer = new DatagramPacket(new byte[1500], 1500);
            socket.receive(answer);
            return new String(answer.getData(), 0, answer.getLength(), StandardCharsets.UTF_8).trim();
        }
    }
}
