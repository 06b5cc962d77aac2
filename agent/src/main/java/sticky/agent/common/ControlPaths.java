package sticky.agent.common;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Where a master's sockets live, {@code <tmp>/sticky-<uid>/<master pid>/}
 * (the master makes it, see master.ControlDirectory), and how the operator's
 * command finds the masters that run there without being told where.
 */
public final class ControlPaths {
    /** The control socket workers connect to. */
    public static final String CONTROL = "control";
    /** The admin socket the operator's command connects to. */
    public static final String ADMIN = "admin";

    private ControlPaths() {}

    /** The per-user directory that holds one directory per running master. */
    public static Path base(int uid) {
        return Path.of(System.getProperty("java.io.tmpdir"), "sticky-" + uid);
    }

    /** This process's user id, as /proc/self says (no native call needed). */
    public static int currentUid() throws IOException {
        return (int) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }

    /** The directories of this user's masters that are running. */
    public static List<Path> running(int uid) throws IOException {
        Path base = base(uid);
        if (!Files.isDirectory(base)) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(base)) {
            return dirs.filter(d -> d.getFileName().toString().matches("\\d+"))
                    .filter(d -> ProcessHandle.of(Long.parseLong(d.getFileName().toString())).map(ProcessHandle::isAlive)
                            .orElse(false))
                    .filter(d -> Files.exists(d.resolve(ADMIN)))
                    .sorted().collect(Collectors.toList());
        }
    }
}
