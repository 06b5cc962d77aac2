package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sticky.it.apps.GrowingHttpApp;
import sticky.it.apps.PlainHttpApp;

/**
 * max-lifetime and max-memory: a worker past either is replaced as in a
 * rolling restart of its slot alone, under load, with an application that has
 * no graceful stop of its own, and no request fails (counted as a client
 * counts them: only one sent on an idle kept-alive connection the server
 * closed is sent again).
 */
@Timeout(300)
class RecyclingTest {
    @EachDispatch
    void everyWorkerPastMaxLifetimeIsReplacedWithNoFailedRequest(String dispatch) throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2,max-lifetime=4s,dispatch=" + dispatch, PlainHttpApp.class,
                "0")) {
            int port = cluster.awaitPort(2);
            List<InetAddress> sources = Clients.ipv4(16);
            Set<Long> first = cluster.workers().stream().map(ProcessHandle::pid).collect(Collectors.toSet());
            try (Load load = new Load(port, sources.subList(0, 8), sources.subList(8, 16))) {
                MasterStatus status = cluster.awaitStatus(s -> MasterStatus.replacedAll(first).test(s)
                        && s.workers().stream().allMatch(w -> "lifetime".equals(w.lastReplaced())));
                DrainTest.awaitMore(load, 500); // and flows on the new workers
                load.close();
                assertEquals(List.of(), load.failures());
                status.workers().forEach(w -> assertEquals(0, w.replacements().get("crash"), "no crash: " + status));
            }
            assertEquals(2, cluster.output().lines().filter(l -> l.matches(
                    ".*INFO sticky - worker [12] \\(pid \\d+\\) is \\d+s old \\(max-lifetime 4000 ms\\); replacing it"))
                    .limit(2).count(), "one line each says why: " + cluster.output());
        }
    }

    /**
     * The replacement is a rolling restart's, which DrainTest runs under both
     * dispatches; here the default one. A worker of this app is some 120 MiB
     * of PSS under the load; the leak adds 250 (direct memory, hence the
     * larger MaxDirectMemorySize), and the limit lies in between.
     */
    @Test
    void aWorkerThatGrowsPastMaxMemoryIsReplacedAndNoOtherIs() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2,max-memory=250m", List.of("-XX:MaxDirectMemorySize=400m"),
                GrowingHttpApp.class, "0")) {
            int port = cluster.awaitPort(2);
            List<InetAddress> sources = Clients.ipv4(16);
            MasterStatus before = cluster.awaitStatus(s -> s.workers().size() == 2);
            long leaky = before.worker(1).pid();
            InetAddress client = sources.stream().filter(s -> pidOf(s, port) == leaky).findFirst().orElseThrow();
            try (Load load = new Load(port, sources.subList(0, 8), sources.subList(8, 16))) {
                DrainTest.awaitMore(load, 500);
                String grew = Clients.http(client, port, "/grow?mb=250");
                assertEquals(Long.toString(leaky), Clients.field(grew, "pid"), grew);
                long crossed = System.nanoTime();
                // Decided at the second look above the limit (10 s apart), then a random delay of up to 30 s.
                String decided = cluster.await(l -> l.matches(".*WARN sticky - worker 1 \\(pid " + leaky + "\\) uses \\d+ MiB "
                        + "\\(PSS\\), over max-memory 250 MiB for \\d+ ms; replacing it in \\d+ ms"), 1, Cluster.START).get(0);
                long seconds = Duration.ofNanos(System.nanoTime() - crossed).toSeconds();
                long delayMs = Long.parseLong(decided.replaceFirst(".* replacing it in (\\d+) ms", "$1"));
                assertTrue(seconds <= 30 && delayMs <= 30_000, "decided within two looks, " + seconds + " s, to be done "
                        + "within 30 s more: " + decided);
                // The replacement starts after the delay, then takes over once it serves (its JVM's start).
                MasterStatus after = cluster.awaitStatus(MasterStatus.replaced(1, leaky), Duration.ofSeconds(150));
                DrainTest.awaitMore(load, 500);
                load.close();
                assertEquals(List.of(), load.failures());
                assertEquals("memory", after.worker(1).lastReplaced());
                assertNull(after.worker(2).lastReplaced(), "the other worker stays: " + after);
                assertEquals(before.worker(2).pid(), after.worker(2).pid());
            }
        }
    }

    private static long pidOf(InetAddress source, int port) {
        try {
            return Long.parseLong(Clients.field(Clients.http(source, port), "pid"));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
