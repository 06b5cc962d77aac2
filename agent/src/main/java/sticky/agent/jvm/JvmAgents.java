package sticky.agent.jvm;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The agents this JVM was started with, read from its command line
 * (/proc/self/cmdline) and from JAVA_TOOL_OPTIONS and JDK_JAVA_OPTIONS, which
 * the JVM and the launcher read first: cheaper than RuntimeMXBean, which
 * starts JMX (tens of milliseconds of every start).
 */
public final class JvmAgents {
    private final List<String> options;

    private JvmAgents(List<String> options) {
        this.options = options;
    }

    public static JvmAgents ofThisJvm() {
        List<String> options = new ArrayList<>();
        for (String variable : new String[] {"JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS"}) {
            String value = System.getenv(variable);
            if (value != null && !value.isBlank()) {
                options.addAll(List.of(value.strip().split("\\s+")));
            }
        }
        try {
            // NUL-terminated arguments
            options.addAll(List.of(new String(Files.readAllBytes(Path.of("/proc/self/cmdline")),
                    java.nio.charset.StandardCharsets.UTF_8).split("\0")));
        } catch (IOException e) {
            // no /proc: what the environment says is all there is
        }
        return new JvmAgents(options);
    }

    /** The options of each -javaagent naming jar, in the order the JVM reads them. */
    public List<String> optionsOf(File jar) {
        List<String> ours = new ArrayList<>();
        for (String arg : options) {
            if (arg.startsWith("-javaagent:")) {
                String spec = arg.substring("-javaagent:".length());
                int eq = spec.indexOf('=');
                if (isSameFile(eq < 0 ? spec : spec.substring(0, eq), jar)) {
                    ours.add(eq < 0 ? "" : spec.substring(eq + 1));
                }
            }
        }
        return ours;
    }

    /** Whether another agent that may change classes runs here: a -javaagent not jar, an -agentpath, an -agentlib but JDWP. */
    public boolean othersBeside(File jar) {
        for (String arg : options) {
            if (arg.startsWith("-javaagent:")) {
                String spec = arg.substring("-javaagent:".length());
                int eq = spec.indexOf('=');
                if (!isSameFile(eq < 0 ? spec : spec.substring(0, eq), jar)) {
                    return true;
                }
            } else if (arg.startsWith("-agentpath:") || arg.startsWith("-agentlib:") && !arg.startsWith("-agentlib:jdwp")) {
                return true;
            }
        }
        return false;
    }

    private static boolean isSameFile(String path, File jar) {
        try {
            return Files.isSameFile(Path.of(path), jar.toPath());
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
