package sticky.it;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A master's state as its operator sees it: {@code status --json} asked on
 * the master's admin socket ({@code <tmp>/sticky-<uid>/<pid>/admin}), as
 * {@code java -jar sticky.jar status --json} does, without a JVM per look.
 * Tests wait on this, not on log lines, for what the cluster is doing.
 */
record MasterStatus(List<Worker> workers) {
    /** lastReplaced: why the slot last got a new process, or null; replacements: how often, by reason. */
    record Worker(int id, long pid, String state, int restarts, String lastReplaced, Map<String, Integer> replacements) {}

    private static final Pattern WORKER = Pattern.compile(
            "\\{\"id\":(\\d+),\"pid\":(-?\\d+),\"state\":\"(\\w+)\",\"uptimeSeconds\":\\d+,\"restarts\":(\\d+),"
                    + "\"dispatched\":\\d+,\"open\":\\d+,\"lastReplaced\":(?:null|\"(\\w+)\"),\"replacements\":\\{([^}]*)}");
    private static final Pattern COUNT = Pattern.compile("\"(\\w+)\":(\\d+)");

    /**
     * The directory of the sockets of master pid of user uid, as the README
     * says: {@code $TMPDIR/sticky-<uid>/<pid>} ($TMPDIR or /tmp), or beside it
     * in {@code sticky-<uid>.<random>} when someone else took that name.
     */
    static Path directoryOf(long masterPid, int uid) throws IOException {
        String tmpdir = System.getenv("TMPDIR");
        Path parent = Path.of(tmpdir != null && tmpdir.startsWith("/") ? tmpdir : "/tmp");
        try (Stream<Path> bases = Files.list(parent)) {
            return bases.filter(b -> b.getFileName().toString().matches("sticky-" + uid + "(\\..+)?"))
                    .map(b -> b.resolve(Long.toString(masterPid))).filter(Files::isDirectory).findFirst()
                    .orElseThrow(() -> new IOException("no directory of master " + masterPid + " in " + parent));
        }
    }

    /** The master's answer to status --json. */
    static String json(long masterPid) throws IOException {
        Path admin = directoryOf(masterPid, (int) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).resolve("admin");
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(admin));
            channel.write(ByteBuffer.wrap("status --json\n".getBytes(StandardCharsets.UTF_8)));
            String answer = new String(readAll(channel), StandardCharsets.UTF_8);
            if (!answer.startsWith("0\n")) {
                throw new IOException("status refused: " + answer);
            }
            return answer.substring(2);
        }
    }

    static MasterStatus of(long masterPid) throws IOException {
        List<Worker> workers = new ArrayList<>();
        Matcher m = WORKER.matcher(json(masterPid));
        while (m.find()) {
            Map<String, Integer> replacements = new TreeMap<>();
            COUNT.matcher(m.group(6)).results().forEach(c -> replacements.put(c.group(1), Integer.parseInt(c.group(2))));
            workers.add(new Worker(Integer.parseInt(m.group(1)), Long.parseLong(m.group(2)), m.group(3),
                    Integer.parseInt(m.group(4)), m.group(5), replacements));
        }
        return new MasterStatus(workers);
    }

    private static byte[] readAll(SocketChannel channel) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
        while (channel.read(buffer) >= 0 && buffer.hasRemaining()) {
            // until the master closes the connection
        }
        buffer.flip();
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }

    /** Asks until condition holds, or fails after timeout with the last status seen. */
    static MasterStatus await(long masterPid, Predicate<MasterStatus> condition, Duration timeout)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        MasterStatus status = null;
        IOException failure = null;
        while (System.nanoTime() < deadline) {
            try {
                status = of(masterPid);
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

    /** Every slot runs a process that is none of old, and every process of old is gone: a rolling restart is over. */
    static Predicate<MasterStatus> replacedAll(Collection<Long> old) {
        return s -> !s.workers.isEmpty()
                && s.workers.stream().allMatch(w -> w.state.equals("running") && !old.contains(w.pid))
                && old.stream().noneMatch(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
    }

    /** Slot id runs a process other than pid. */
    static Predicate<MasterStatus> replaced(int id, long pid) {
        return s -> s.workers.stream().anyMatch(w -> w.id == id && w.pid > 0 && w.pid != pid && w.state.equals("running"));
    }

    Worker worker(int id) {
        return workers.stream().filter(w -> w.id == id).findFirst().orElseThrow();
    }
}
