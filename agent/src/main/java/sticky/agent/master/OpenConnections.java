package sticky.agent.master;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Counts the established TCP connections a worker holds on the listeners'
 * ports, from /proc: the socket inodes among the process's descriptors,
 * matched against /proc/net/tcp and tcp6. Computed only when someone asks
 * (status, metrics), never on the connection path.
 */
final class OpenConnections {
    private static final String ESTABLISHED = "01";

    private OpenConnections() {}

    static long count(long pid, Set<Integer> ports) {
        if (pid < 0 || ports.isEmpty()) {
            return 0;
        }
        Set<String> inodes = socketInodes(pid);
        long count = 0;
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            try {
                for (String line : Files.readAllLines(Path.of(table))) {
                    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
                    String[] f = line.trim().split("\\s+");
                    if (f.length > 9 && f[3].equals(ESTABLISHED) && inodes.contains(f[9])) {
                        String local = f[1];
                        int port = Integer.parseInt(local.substring(local.indexOf(':') + 1), 16);
                        if (ports.contains(port)) {
                            count++;
                        }
                    }
                }
            } catch (IOException | RuntimeException unreadable) {
                // no such table (no IPv6) or a line in another format: count what can be read
            }
        }
        return count;
    }

    private static Set<String> socketInodes(long pid) {
        Set<String> inodes = new HashSet<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : fds) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring(8, target.length() - 1));
                    }
                } catch (IOException closedMeanwhile) {
                    // the descriptor went away while listing
                }
            }
        } catch (IOException gone) {
            // the process is gone
        }
        return inodes;
    }
}
