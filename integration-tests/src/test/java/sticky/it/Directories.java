package sticky.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Temporary directories of the tests: one level of files, removed with them. */
final class Directories {
    private Directories() {}

    /** Deletes dir and the files in it (no subdirectories). */
    static void delete(Path dir) throws IOException {
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.collect(Collectors.toList());
        }
        for (Path f : files) {
            Files.delete(f);
        }
        Files.delete(dir);
    }
}
