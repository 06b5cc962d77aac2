package sticky.agent.jvm;

import java.util.Locale;
import java.util.Set;

/**
 * Where sticky can cluster: Linux on x86_64 and aarch64, whose system-call
 * constants and struct layouts the native code uses (JNA ships both
 * libraries). Descriptor passing exists on macOS too, but sticky's control
 * channel is a SOCK_SEQPACKET socket, which macOS lacks, and nothing of it is
 * tested there yet.
 */
public final class Platforms {
    private static final Set<String> ARCHITECTURES = Set.of("amd64", "x86_64", "aarch64");

    private Platforms() {}

    /** Null where sticky runs; else why not, in one line. */
    public static String unsupported() {
        String os = System.getProperty("os.name", "");
        String arch = System.getProperty("os.arch", "");
        if (!os.toLowerCase(Locale.ROOT).startsWith("linux") || !ARCHITECTURES.contains(arch)) {
            return "sticky cannot cluster on " + os + " " + arch + " (it supports Linux on x86_64 and aarch64)";
        }
        return null;
    }
}
