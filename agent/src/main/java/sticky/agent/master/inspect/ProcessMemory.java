package sticky.agent.master.inspect;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A process's memory as max-memory measures it: PSS, its private pages plus
 * its share of those it maps with others (the JDK's CDS archive, the
 * libraries), from /proc/PID/smaps_rollup (Linux 4.14+); -1 where that cannot
 * be read.
 */
public final class ProcessMemory {
    private ProcessMemory() {}

    public static long pss(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps_rollup"))) {
                if (line.startsWith("Pss:")) {
                    return Long.parseLong(line.substring(4).trim().split("\\s+")[0]) * 1024; // "Pss:  12345 kB"
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone, or a kernel without smaps_rollup
        }
        return -1;
    }
}
