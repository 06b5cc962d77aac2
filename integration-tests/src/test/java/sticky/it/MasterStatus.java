package sticky.it;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * A master's state as its operator sees it: {@code status --json} asked on
 * the master's admin socket ({@code <tmp>/sticky-<uid>/<pid>/admin}), as
 * {@code java -jar sticky.jar status --json} does, without a JVM per look,
 * and read with a JSON library into the fields README documents (any other
 * field, or a missing one, fails the read). Tests wait on what the cluster
 * says it does, not on sticky's log lines.
 */
record MasterStatus(long pid, String version, int protocol, long uptimeSeconds, long shutdownTimeoutSeconds,
        int workersAsked, int workersServing, String scaleFailure, List<Listener> listeners, List<Worker> workers,
        Reload reload, Upgrade upgrade, long refusedControlConnections) {

    /** dispatch: kernel, master or unix; liveWorkers: the ids whose own worker gets their clients. */
    record Listener(String name, String dispatch, List<Integer> liveWorkers) {}

    /**
     * state: restarting, finished, or the process's phase (starting, running,
     * serving, leaving, hung); lastReplaced: why the slot last got a new
     * process, or null; replacements: how often, by reason; replacement: the
     * pid about to take the slot over, or null; leaving: its leaving processes.
     */
    record Worker(int id, long pid, String state, int generation, long uptimeSeconds, int restarts, long dispatched,
            long open, String lastReplaced, Map<String, Integer> replacements, List<Integer> ports, Long replacement,
            List<Long> leaving) {}

    /** The last rolling restart: none, waiting, running, done or stopped, and why it stopped. */
    record Reload(String state, String why) {}

    /** The upgrade: none, running, handed-over, taking-over, took-over or failed, why it failed, the other master. */
    record Upgrade(String state, String why, Long master) {}

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES);

    /**
     * The directory of the sockets of master pid of user uid, as the README
     * says: {@code $TMPDIR/sticky-<uid>/<pid>} ($TMPDIR or /tmp), or beside it
     * in {@code sticky-<uid>.<random>} when someone else took that name.
     */
    static Path directoryOf(long masterPid, int uid) throws IOException {
        return directoryOf(parent(System.getenv("TMPDIR")), masterPid, uid);
    }

    /** Where masters started with TMPDIR=tmpdir (or none) keep their directories: $TMPDIR, or /tmp. */
    static Path parent(String tmpdir) {
        return Path.of(tmpdir != null && tmpdir.startsWith("/") ? tmpdir : "/tmp");
    }

    /** The same, for this test's own user: the user of the masters it starts. */
    static Path directoryOf(Path parent, long masterPid) throws IOException {
        return directoryOf(parent, masterPid, (int) Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
    }

    static Path directoryOf(Path parent, long masterPid, int uid) throws IOException {
        try (Stream<Path> bases = Files.list(parent)) {
            return bases.filter(b -> b.getFileName().toString().matches("sticky-" + uid + "(\\..+)?"))
                    .map(b -> b.resolve(Long.toString(masterPid))).filter(Files::isDirectory).findFirst()
                    .orElseThrow(() -> new IOException("no directory of master " + masterPid + " in " + parent));
        }
    }

    /** The master's answer to status --json. */
    static String json(long masterPid) throws IOException {
        return ask(masterPid, "status --json");
    }

    /** One request on master pid's admin socket, as the command line sends it; the answer's text if its code is 0. */
    static String ask(long masterPid, String request) throws IOException {
        Answer answer = request(masterPid, request);
        if (answer.code() != 0) {
            throw new IOException(request + " refused: " + answer);
        }
        return answer.text();
    }

    /** An admin answer: the command line's exit code and what it prints. */
    record Answer(int code, String text) {
        /** Null when the code is 0, else the text, trimmed. */
        String failure() {
            return code == 0 ? null : text.trim();
        }
    }

    static Answer request(long masterPid, String request) throws IOException {
        return request(parent(System.getenv("TMPDIR")), masterPid, request);
    }

    /** The same, for a master whose directories are in parent. */
    static Answer request(Path parent, long masterPid, String request) throws IOException {
        Path admin = directoryOf(parent, masterPid).resolve("admin");
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(admin));
            channel.write(ByteBuffer.wrap((request + "\n").getBytes(StandardCharsets.UTF_8)));
            ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            while (channel.read(buffer) >= 0) {
                bytes.write(buffer.array(), 0, buffer.position());
                buffer.clear();
            }
            String answer = bytes.toString(StandardCharsets.UTF_8);
            int newline = answer.indexOf('\n');
            if (newline < 0) {
                throw new IOException("no answer to " + request + " from master " + masterPid);
            }
            return new Answer(Integer.parseInt(answer.substring(0, newline)), answer.substring(newline + 1));
        }
    }

    static MasterStatus parse(String json) throws IOException {
        return JSON.readValue(json, MasterStatus.class);
    }

    static MasterStatus of(long masterPid) throws IOException {
        return parse(json(masterPid));
    }

    static MasterStatus of(Path parent, long masterPid) throws IOException {
        Answer answer = request(parent, masterPid, "status --json");
        if (answer.code() != 0) {
            throw new IOException("status refused: " + answer);
        }
        return parse(answer.text());
    }

    /** Asks until condition holds, or fails after timeout with the last status seen. */
    static MasterStatus await(long masterPid, Predicate<MasterStatus> condition, Duration timeout)
            throws IOException, InterruptedException {
        return await(parent(System.getenv("TMPDIR")), masterPid, condition, timeout);
    }

    /** The same, for a master whose directories are in parent. */
    static MasterStatus await(Path parent, long masterPid, Predicate<MasterStatus> condition, Duration timeout)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        MasterStatus status = null;
        IOException failure = null;
        while (System.nanoTime() < deadline) {
            try {
                status = of(parent, masterPid);
                if (condition.test(status)) {
                    return status;
                }
            } catch (IOException e) {
                failure = e; // the master may not have made its admin socket yet
            }
            Thread.sleep(50);
        }
        throw new AssertionError("waited " + timeout + " for the master's status; last seen: " + status, failure);
    }

    /** Every slot's process serves, and none is being replaced or leaving. */
    static Predicate<MasterStatus> serving(int workers) {
        return s -> s.workers.size() == workers && s.workers.stream()
                .allMatch(w -> w.state.equals("serving") && w.replacement == null && w.leaving.isEmpty());
    }

    /** Every slot serves with a process that is none of old, and every process of old is gone: a rolling restart is over. */
    static Predicate<MasterStatus> replacedAll(Collection<Long> old) {
        return s -> !s.workers.isEmpty()
                && s.workers.stream().allMatch(w -> w.state.equals("serving") && !old.contains(w.pid))
                && old.stream().noneMatch(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
    }

    /** Slot id serves with a process other than pid. */
    static Predicate<MasterStatus> replaced(int id, long pid) {
        return s -> s.workers.stream().anyMatch(w -> w.id == id && w.pid > 0 && w.pid != pid && w.state.equals("serving"));
    }

    /** The last rolling restart has ended: done or stopped. */
    static Predicate<MasterStatus> reloadEnded() {
        return s -> s.reload.state.equals("done") || s.reload.state.equals("stopped");
    }

    Worker worker(int id) {
        return workers.stream().filter(w -> w.id == id).findFirst().orElseThrow();
    }

    /** The listener of that name (as status names it: host:port, udp host:port, unix PATH). */
    Listener listener(String name) {
        return listeners.stream().filter(l -> l.name.equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no listener " + name + " in " + listeners));
    }
}
