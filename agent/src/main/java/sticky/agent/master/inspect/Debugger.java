package sticky.agent.master.inspect;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether a debugger may hold a worker (JDWP), stopped at a breakpoint as it
 * may be: then the watchdog leaves it alone. A worker started with a JDWP
 * agent that listens (server=y, a port) is held while a connection to that
 * port is established; one whose agent connects out (server=n) or listens
 * where this cannot tell, always may be.
 */
final class Debugger {
    private static final Pattern SERVER = Pattern.compile("(?:^|,)server=y(?:,|$)");
    private static final Pattern PORT = Pattern.compile("(?:^|,)address=(?:[^,]*:)?(\\d+)(?:,|$)");

    private Debugger() {}

    static boolean mayHold(long pid) {
        String jdwp = jdwpOptions(pid);
        if (jdwp == null) {
            return false;
        }
        Matcher port = PORT.matcher(jdwp);
        if (!SERVER.matcher(jdwp).find() || !port.find() || Integer.parseInt(port.group(1)) == 0) {
            return true;
        }
        return OpenConnections.count(pid, Set.of(Integer.parseInt(port.group(1)))) > 0;
    }

    /** The JDWP agent's options on the process's command line or in JAVA_TOOL_OPTIONS / JDK_JAVA_OPTIONS; null if none. */
    private static String jdwpOptions(long pid) {
        List<String> words = new ArrayList<>();
        try {
            words.addAll(sticky.agent.master.spawn.WorkerCommand.parse(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"))));
            for (String variable : new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "environ")),
                    StandardCharsets.UTF_8).split("\0")) {
                if (variable.startsWith("JAVA_TOOL_OPTIONS=") || variable.startsWith("JDK_JAVA_OPTIONS=")) {
                    words.addAll(List.of(variable.substring(variable.indexOf('=') + 1).trim().split("\\s+")));
                }
            }
        } catch (IOException | RuntimeException gone) {
            return null;
        }
        for (String word : words) {
            if (word.startsWith("-agentlib:jdwp=") || word.startsWith("-Xrunjdwp:")) {
                return word.substring(word.indexOf(word.startsWith("-X") ? ':' : '=') + 1);
            }
        }
        return null;
    }
}
