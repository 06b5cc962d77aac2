package sticky.agent.common;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Where a master's sockets live, {@code <parent>/sticky-<uid>/<master pid>/}
 * (the master makes it, see master.ControlDirectory), and how the operator's
 * command finds the masters that run there without being told where.
 *
 * <p>The parent is {@code $TMPDIR} where set, else {@code /tmp}, as for
 * tmux's and ssh-agent's sockets; never {@code java.io.tmpdir}, which an
 * application's command line may move where the operator's command would not
 * look (HotSpot's hsperfdata, which jps reads, ignores it for the same
 * reason). Not {@code $XDG_RUNTIME_DIR}: logind removes it at the user's last
 * logout, under a master started from a login shell. When another user has
 * taken {@code sticky-<uid>} first, the master uses a private directory of an
 * unpredictable name, {@code sticky-<uid>.<random>}, found here by listing.
 */
public final class ControlPaths {
    /** The control socket workers connect to. */
    public static final String CONTROL = "control";
    /** The admin socket the operator's command connects to. */
    public static final String ADMIN = "admin";
    private static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rwx------");

    private ControlPaths() {}

    /** Where a master makes its per-user directory: $TMPDIR (an absolute path) or /tmp. */
    public static Path parent() {
        String tmpdir = System.getenv("TMPDIR");
        return tmpdir != null && tmpdir.startsWith("/") ? Path.of(tmpdir) : Path.of("/tmp");
    }

    /** The per-user directory's name, when nobody else took it. */
    public static String name(int uid) {
        return "sticky-" + uid;
    }

    /**
     * Whether dir is a directory (not a link) of user uid that nobody else may
     * enter: only then may a master put its sockets there, or the operator's
     * command trust what it finds there.
     */
    public static boolean isPrivate(Path dir, int uid) throws IOException {
        return Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)
                && (int) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS) == uid
                && Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS).equals(PRIVATE);
    }

    /** The private per-user directories in parent: sticky-uid first, then those of unpredictable names. */
    public static List<Path> bases(Path parent, int uid) throws IOException {
        List<Path> bases = new ArrayList<>();
        if (!Files.isDirectory(parent)) {
            return bases;
        }
        try (Stream<Path> entries = Files.list(parent)) {
            for (Path p : entries.sorted().collect(Collectors.toList())) {
                String n = p.getFileName().toString();
                if ((n.equals(name(uid)) || n.startsWith(name(uid) + ".")) && isPrivate(p, uid)) {
                    bases.add(n.equals(name(uid)) ? 0 : bases.size(), p);
                }
            }
        }
        return bases;
    }

    /** This process's user id, as /proc/self says (no native call needed). */
    public static int currentUid() throws IOException {
        return (int) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }

    /** The directories of this user's masters that are running, under $TMPDIR and /tmp. */
    public static List<Path> running(int uid) throws IOException {
        Set<Path> parents = new LinkedHashSet<>(List.of(parent(), Path.of("/tmp")));
        List<Path> running = new ArrayList<>();
        for (Path parent : parents) {
            for (Path base : bases(parent, uid)) {
                try (Stream<Path> dirs = Files.list(base)) {
                    dirs.filter(d -> d.getFileName().toString().matches("\\d{1,18}"))
                            .filter(d -> ProcessHandle.of(Long.parseLong(d.getFileName().toString()))
                                    .map(ProcessHandle::isAlive).orElse(false))
                            .filter(d -> Files.exists(d.resolve(ADMIN)))
                            .sorted().forEach(running::add);
                }
            }
        }
        return running;
    }
}
