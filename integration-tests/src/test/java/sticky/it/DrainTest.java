package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Timeout;
import sticky.it.apps.PlainHttpApp;

/**
 * A worker that leaves (a rolling restart, a stop) first gets no new
 * connection, then finishes what it has, then gets SIGTERM: tested with an
 * application that has no graceful stop of its own, under each dispatch.
 * Failures are counted as a client counts them: only a request sent on an
 * idle kept-alive connection that the server closed is sent again.
 */
@Timeout(300)
class DrainTest {
    @EachDispatch
    void aRollingRestartUnderLoadFailsNoRequest(String dispatch) throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2,dispatch=" + dispatch, PlainHttpApp.class, "0")) {
            int port = cluster.awaitPort(2);
            List<InetAddress> sources = Clients.ipv4(16);
            Set<Long> old = cluster.workers().stream().map(ProcessHandle::pid).collect(Collectors.toSet());
            try (Load load = new Load(port, sources.subList(0, 8), sources.subList(8, 16))) {
                awaitMore(load, 500); // the load flows
                long before = load.requests();
                long start = System.nanoTime();
                cluster.signal("HUP");
                cluster.awaitStatus(MasterStatus.replacedAll(old));
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                long during = load.requests() - before;
                awaitMore(load, 500); // and flows on the new workers
                load.close();
                assertEquals(List.of(), load.failures());
                System.out.printf("rolling restart of 2 workers under load, dispatch=%s: %d ms, %d requests during it,"
                        + " none failed%n", dispatch, ms, during);
            }
        }
    }

    @EachDispatch
    void aSlowRequestInProgressAtARollingRestartGetsItsWholeAnswer(String dispatch) throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2,dispatch=" + dispatch, PlainHttpApp.class, "0")) {
            int port = cluster.awaitPort(2);
            Set<Long> old = cluster.workers().stream().map(ProcessHandle::pid).collect(Collectors.toSet());
            CompletableFuture<String> slow = Clients.getLater(port, "/slow");
            cluster.await(l -> l.equals("handling slow request"), 1, Cluster.START);
            cluster.signal("HUP");
            String answer = slow.get(60, TimeUnit.SECONDS);
            assertTrue(answer.startsWith("HTTP/1.1 200") && answer.contains("pid="), "the whole answer: " + answer);
            assertTrue(old.contains(Long.parseLong(Clients.field(answer.substring(answer.indexOf("\r\n\r\n") + 4), "pid"))),
                    "answered by the worker it was sent to: " + answer);
            cluster.awaitStatus(MasterStatus.replacedAll(old));
        }
    }

    @EachDispatch
    void aSlowRequestInProgressAtAStopGetsItsWholeAnswer(String dispatch) throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2,dispatch=" + dispatch, PlainHttpApp.class, "0")) {
            int port = cluster.awaitPort(2);
            CompletableFuture<String> slow = Clients.getLater(port, "/slow");
            cluster.await(l -> l.equals("handling slow request"), 1, Cluster.START);
            cluster.signal("TERM");
            String answer = slow.get(60, TimeUnit.SECONDS);
            assertTrue(answer.startsWith("HTTP/1.1 200") && answer.contains("pid="), "the whole answer: " + answer);
            Integer code = cluster.waitForExit(Duration.ofSeconds(60));
            assertNotNull(code);
            assertEquals(0, code.intValue(), cluster.output());
        }
    }

    static void awaitMore(Load load, long requests) throws InterruptedException {
        long target = load.requests() + requests;
        long deadline = System.nanoTime() + Cluster.START.toNanos();
        while (load.requests() < target) {
            assertTrue(System.nanoTime() < deadline, "the load stopped flowing: " + load.failures());
            Thread.sleep(10);
        }
    }
}
