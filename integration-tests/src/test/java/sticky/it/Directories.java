package sticky.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Temporary directories of the tests, removed with what is in them. */
final class Directories {
    private Directories() {}

    /** Deletes dir and everything in it. */
    static void delete(Path dir) throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(dir)) {
            files = walk.sorted(java.util.Comparator.reverseOrder()).collect(Collectors.toList()); // children first
        }
        for (Path f : files) {
            Files.delete(f);
        }
    }
}
