package sticky.agent.master.control;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import sticky.agent.common.ControlPaths;
import sticky.agent.jvm.Logs;

/**
 * Makes the directory where a master's sockets live ({@link ControlPaths}): both
 * levels mode 0700 and owned by the user, so that no other user can reach the
 * control socket (the kernel refuses the connect) and the operator's command
 * finds its masters without being told where. A per-user directory that is a
 * link, someone else's or open to others is never used: it could be a trap
 * laid by another user. Nor does it stop the master (anyone may create
 * {@code /tmp/sticky-<uid>} first): the master then uses a private directory
 * of an unpredictable name beside it, made by one mkdir.
 */
public final class ControlDirectory {
    private static final Logger log = Logs.get();
    private static final FileAttribute<Set<PosixFilePermission>> PRIVATE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

    private ControlDirectory() {}

    /** Creates this master's directory, fresh. */
    public static Path create(int uid, long pid) throws IOException {
        Path base = base(ControlPaths.parent(), uid);
        removeDead(base);
        Path dir = base.resolve(Long.toString(pid));
        delete(dir); // left by an earlier master that had this pid
        Files.createDirectory(dir, PRIVATE);
        return dir;
    }

    /** sticky-uid in parent, made if absent; if it is not ours and private, one of ours of another name. */
    private static Path base(Path parent, int uid) throws IOException {
        Path base = parent.resolve(ControlPaths.name(uid));
        if (!Files.exists(base, LinkOption.NOFOLLOW_LINKS)) {
            try {
                Files.createDirectory(base, PRIVATE);
            } catch (FileAlreadyExistsException raced) {
                // another master, or someone else, made it: checked below like any other
            }
        }
        if (ControlPaths.isPrivate(base, uid)) {
            return base;
        }
        List<Path> ours = ControlPaths.bases(parent, uid);
        Path other = ours.isEmpty() ? Files.createTempDirectory(parent, ControlPaths.name(uid) + ".", PRIVATE)
                : ours.get(0);
        if (!ControlPaths.isPrivate(other, uid)) { // a umask cannot widen the mode, but a file system might ignore it
            throw new IOException(other + " is not a private directory of user " + uid);
        }
        log.warn("{} is not a private directory of user {} (a link, another user's, or open to others): not used; "
                + "this master's sockets are in {}", base, uid, other);
        return other;
    }

    /** Directories of masters that are gone (killed with -9, they could not clean up). */
    private static void removeDead(Path base) throws IOException {
        try (Stream<Path> dirs = Files.list(base)) {
            for (Path d : dirs.collect(Collectors.toList())) {
                String name = d.getFileName().toString();
                if (name.matches("\\d{1,18}") && ProcessHandle.of(Long.parseLong(name)).map(p -> !p.isAlive()).orElse(true)) {
                    delete(d);
                }
            }
        }
    }

    public static void delete(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
                Files.deleteIfExists(p);
            }
        }
    }
}
