package sticky.agent.master;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import sticky.agent.common.ControlPaths;

/**
 * Makes the directory where a master's sockets live ({@link ControlPaths}): both
 * levels mode 0700 and owned by the user, so that no other user can reach the
 * control socket (the kernel refuses the connect) and the operator's command
 * finds its masters without being told where. A per-user directory that is a
 * link, someone else's or open to others is refused: it could be a trap laid
 * by another user.
 */
final class ControlDirectory {
    private static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rwx------");

    private ControlDirectory() {}

    /** Creates this master's directory, fresh. */
    static Path create(int uid, long pid) throws IOException {
        Path base = ControlPaths.base(uid);
        if (!Files.exists(base, LinkOption.NOFOLLOW_LINKS)) {
            try {
                Files.createDirectory(base, PosixFilePermissions.asFileAttribute(PRIVATE));
            } catch (java.nio.file.FileAlreadyExistsException raced) {
                // another master of this user made it: checked below like any other
            }
        }
        if (Files.isSymbolicLink(base) || !Files.isDirectory(base, LinkOption.NOFOLLOW_LINKS)
                || (int) Files.getAttribute(base, "unix:uid", LinkOption.NOFOLLOW_LINKS) != uid
                || !Files.getPosixFilePermissions(base, LinkOption.NOFOLLOW_LINKS).equals(PRIVATE)) {
            throw new IOException(base + " is not a private directory of user " + uid + "; remove it or fix its mode (0700)");
        }
        removeDead(base);
        Path dir = base.resolve(Long.toString(pid));
        delete(dir); // left by an earlier master that had this pid
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PRIVATE));
        return dir;
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

    static void delete(Path dir) throws IOException {
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
