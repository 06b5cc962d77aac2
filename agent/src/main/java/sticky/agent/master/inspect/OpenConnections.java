package sticky.agent.master.inspect;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The TCP connections a worker holds on the listeners' ports, from /proc:
 * the socket inodes among the process's descriptors, matched against
 * /proc/net/tcp and tcp6. Computed only when asked (status, metrics, a
 * worker's drain), never on the connection path.
 */
public final class OpenConnections {
    private static final String ESTABLISHED = "01";

    private OpenConnections() {}

    /** Established connections. */
    public static long count(long pid, Set<Integer> ports) {
        long found = 0;
        if (pid < 0 || ports.isEmpty()) {
            return found;
        }
        Map<String, Integer> inodes = socketInodes(pid);
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            try {
                for (String line : Files.readAllLines(Path.of(table))) {
                    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
                    String[] f = line.trim().split("\\s+");
                    if (f.length > 9 && f[3].equals(ESTABLISHED) && inodes.containsKey(f[9])) {
                        String local = f[1];
                        int port = Integer.parseInt(local.substring(local.indexOf(':') + 1), 16);
                        if (ports.contains(port)) {
                            found++;
                        }
                    }
                }
            } catch (IOException | RuntimeException unreadable) {
                // no such table (no IPv6) or a line in another format: what can be read
            }
        }
        return found;
    }

    /** The descriptor numbers of the process's sockets, of any kind. */
    static Collection<Integer> sockets(long pid) {
        return socketInodes(pid).values();
    }

    /** Socket inode to descriptor number. */
    private static Map<String, Integer> socketInodes(long pid) {
        Map<String, Integer> inodes = new HashMap<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : fds) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.put(target.substring(8, target.length() - 1), Integer.parseInt(fd.getFileName().toString()));
                    }
                } catch (IOException | NumberFormatException closedMeanwhile) {
                    // the descriptor went away while listing
                }
            }
        } catch (IOException gone) {
            // the process is gone
        }
        return inodes;
    }
}
