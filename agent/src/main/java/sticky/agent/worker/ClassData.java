package sticky.agent.worker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import sticky.agent.common.Environment;
import sticky.agent.jvm.Logs;

/**
 * The worker's part in sharing class data (cds=on, see
 * master.ClassDataArchive): a worker started with the AOT cache checks that
 * the JVM mapped it (it is in /proc/self/maps: the JVM maps the file's
 * regions at VM start, before any agent runs, JDK 25) and removes one the JVM
 * refused (made for another JDK, or broken: with AOTMode=auto, the default,
 * the JVM starts without it), so that a later worker makes a new one.
 */
final class ClassData {
    private static final Logger log = Logs.get();

    private ClassData() {}

    static void checkArchive() {
        String given = System.getenv(Environment.CDS_ARCHIVE);
        if (given == null) {
            return;
        }
        Path archive = Path.of(given);
        try {
            String real = archive.toRealPath().toString();
            boolean mapped;
            try (var lines = Files.lines(Path.of("/proc/self/maps"))) {
                // "(deleted)": mapped, and replaced since by a newer archive, which must stay.
                mapped = lines.anyMatch(l -> l.endsWith(" " + real) || l.endsWith(" " + real + " (deleted)"));
            }
            if (!mapped) {
                Files.deleteIfExists(archive);
                log.info("the class data cache {} was not usable by this JVM (made for another class path or JDK, "
                        + "or broken); removed it, a later worker makes a new one", archive);
            }
        } catch (IOException e) {
            log.debug("checking the class data cache {}: {}", archive, e.toString());
        }
    }
}
