package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/** Drives clients from many source addresses and checks what sticky promises about where they land. */
final class Routing {
    interface Request {
        String send(InetAddress source, int port) throws IOException;
    }

    private Routing() {}

    /**
     * rounds connections from each source; asserts each source always reached
     * one worker (a child of the master), that the app saw the real source
     * address, and that more than one worker served. Returns the pid per source.
     */
    static Map<InetAddress, String> assertSticky(Cluster cluster, int port, List<InetAddress> sources, int rounds,
            Request request) throws IOException {
        return assertSticky(cluster.workers().stream().map(ProcessHandle::pid).collect(Collectors.toSet()), port,
                sources, rounds, request);
    }

    /** The same, for the workers given (such as a new master's, which is no child of the cluster's first). */
    static Map<InetAddress, String> assertSticky(Set<Long> workerPids, int port, List<InetAddress> sources, int rounds,
            Request request) throws IOException {
        Set<String> workers = workerPids.stream().map(p -> Long.toString(p)).collect(Collectors.toSet());
        Map<InetAddress, Set<String>> seen = new LinkedHashMap<>();
        for (int round = 0; round < rounds; round++) {
            for (InetAddress source : sources) {
                String reply = request.send(source, port);
                assertEquals(source.getHostAddress(), normalise(Clients.field(reply, "peer")),
                        "the application must see the real client address");
                seen.computeIfAbsent(source, s -> new HashSet<>()).add(Clients.field(reply, "pid"));
            }
        }
        Map<InetAddress, String> pidBySource = new LinkedHashMap<>();
        seen.forEach((source, pids) -> {
            assertEquals(1, pids.size(), source + " was served by several workers: " + pids);
            String pid = pids.iterator().next();
            assertTrue(workers.contains(pid), source + " was served by " + pid + ", not a worker of " + workers);
            pidBySource.put(source, pid);
        });
        assertTrue(new HashSet<>(pidBySource.values()).size() > 1,
                "all clients landed on one worker: " + pidBySource);
        return pidBySource;
    }

    /**
     * Kills (SIGKILL) the worker serving the first source and waits for its
     * death, then checks what sticky promises until and after its successor
     * is back: see {@link #awaitSuccessor}; afterwards the slot's clients are all on the
     * successor and everyone else where they were. Returns {victim, successor}.
     */
    static String[] killAWorkerAndAwaitItsReturn(Cluster cluster, int port, List<InetAddress> sources,
            Map<InetAddress, String> before, Request request) throws IOException {
        String victim = before.get(sources.get(0));
        ProcessHandle victimProcess = ProcessHandle.of(Long.parseLong(victim)).orElseThrow();
        victimProcess.destroyForcibly();
        // SIGKILL is delivered asynchronously: until the victim is gone it may still accept a
        // connection, which dies with it as it would without sticky. The promise starts at its death.
        try {
            victimProcess.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("worker " + victim + " did not die of SIGKILL", e);
        }
        String successor = awaitSuccessor(cluster, port, sources, before, victim, request);
        for (InetAddress source : sources) {
            String expected = before.get(source).equals(victim) ? successor : before.get(source);
            assertEquals(expected, Clients.field(request.send(source, port), "pid"), "client " + source);
        }
        return new String[] {victim, successor};
    }

    /**
     * After worker victim died: requests from every source keep succeeding (the
     * victim's clients go to another worker, the others stay where they were)
     * until a new worker serves the victim's clients. Returns its pid.
     */
    static String awaitSuccessor(Cluster cluster, int port, List<InetAddress> sources, Map<InetAddress, String> before,
            String victim, Request request) throws IOException {
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(90).toNanos();
        while (true) {
            assertTrue(System.nanoTime() < deadline, "no worker took the killed worker's slot back");
            for (InetAddress source : sources) {
                String pid = Clients.field(request.send(source, port), "pid");
                if (!before.get(source).equals(victim)) {
                    assertEquals(before.get(source), pid, source + " moved although its worker lived");
                } else if (!pid.equals(victim) && !before.containsValue(pid)) {
                    return pid;
                }
            }
        }
    }

    /** Java prints ::1 as 0:0:0:0:0:0:0:1. */
    private static String normalise(String address) throws IOException {
        return InetAddress.getByName(address).getHostAddress();
    }
}
