package sticky.agent.master.inspect;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import sticky.agent.jvm.Logs;
import sticky.agent.unix.SocketDiag;

/**
 * The established TCP connections workers hold on the listeners' ports: the
 * kernel lists the established sockets on those ports ({@link SocketDiag},
 * filtered in the kernel, never the machine's whole table, which a busy
 * host's /proc/net/tcp is), and each worker's /proc/PID/fd says which are
 * its. Where the kernel refuses socket diagnostics (qemu-user passes no
 * NETLINK_SOCK_DIAG), each worker's own sockets are looked at instead,
 * through copies of its descriptors ({@link WorkerConnections}): as bounded,
 * a few system calls per socket of the worker's. Computed only when asked
 * (status, metrics, the watchdog's look at a debugger), never on the
 * connection path.
 */
public final class OpenConnections {
    private static final Logger log = Logs.get();
    private static volatile boolean unreadableSaid;

    private OpenConnections() {}

    /** For each of pids, the established connections it holds on ports (0 for a pid of -1, or gone). */
    public static Map<Long, Long> count(Collection<Long> pids, Set<Integer> ports) {
        Map<Long, Long> counts = new HashMap<>();
        pids.forEach(pid -> counts.put(pid, 0L));
        if (ports.isEmpty() || pids.stream().allMatch(pid -> pid < 0)) {
            return counts;
        }
        Set<Long> established;
        try {
            established = SocketDiag.established(ports);
        } catch (IOException | RuntimeException e) {
            if (!unreadableSaid) {
                unreadableSaid = true;
                log.info("socket diagnostics unavailable ({}): workers' connections are counted from their own "
                        + "descriptors", e.getMessage());
            }
            pids.stream().filter(pid -> pid >= 0).forEach(pid -> counts.put(pid, WorkerConnections.established(pid, ports)));
            return counts;
        }
        for (long pid : pids) {
            if (pid >= 0) {
                counts.put(pid, (long) SocketDiag.heldBy(pid, established));
            }
        }
        return counts;
    }

    /** The same for one process. */
    public static long count(long pid, Set<Integer> ports) {
        return count(List.of(pid), ports).get(pid);
    }

    /** The descriptor numbers of the process's sockets, of any kind. */
    static Collection<Integer> sockets(long pid) {
        List<Integer> sockets = new ArrayList<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : fds) {
                try {
                    if (Files.readSymbolicLink(fd).toString().startsWith("socket:[")) {
                        sockets.add(Integer.parseInt(fd.getFileName().toString()));
                    }
                } catch (IOException | NumberFormatException closedMeanwhile) {
                    // the descriptor went away while listing
                }
            }
        } catch (IOException gone) {
            // the process is gone
        }
        return sockets;
    }
}
