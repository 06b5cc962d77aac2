package sticky.agent.master.spawn;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import sticky.agent.options.Options;

/**
 * The command a worker is started with: exactly this JVM's own command line,
 * read from /proc/self/cmdline. Not from RuntimeMXBean.getInputArguments():
 * that list also holds what came from JDK_JAVA_OPTIONS, which the worker
 * inherits in its environment and would apply a second time. Not from
 * ProcessHandle.Info.arguments() either: on Linux it gives nothing for a
 * command line longer than a page (JDK 17 and 25), and class paths are. The -javaagent option is part of the command, so the
 * worker runs the agent too; the environment tells it that it is a worker.
 *
 * <p>JVM options that open a port of their own are given a port per worker, as
 * Node's cluster does for --inspect: the JDWP debugger's {@code address} and
 * JMX's {@code com.sun.management.jmxremote.port} and {@code .rmi.port} get
 * the worker id added (and 256, the most workers there can be, as well on
 * every other generation of a slot: a replacement runs beside the process it
 * replaces; 256 and not the count, which scaling changes under processes that
 * keep their ports).
 */
public final class WorkerCommand {
    /** JVM options whose value is the next argument (java -help, JDK 17 to 25). */
    private static final Set<String> WITH_VALUE = Set.of("-cp", "-classpath", "--class-path", "-p", "--module-path",
            "--upgrade-module-path", "--add-modules", "--add-exports", "--add-opens", "--add-reads", "--patch-module",
            "--limit-modules", "--enable-native-access", "--source");
    private static final Pattern JDWP_ADDRESS = Pattern.compile("((?:^|,)address=(?:[^,]*:)?)(\\d+)(?=,|$)");
    private static final Pattern JMX_PORT = Pattern.compile("(-Dcom\\.sun\\.management\\.jmxremote\\.(?:rmi\\.)?port=)(\\d+)");

    private WorkerCommand() {}

    /**
     * A worker's: this JVM's executable itself (/proc/self/exe, resolved when
     * it started), so that every worker runs the master's JDK, whatever a
     * link or a PATH entry names by now.
     */
    public static List<String> ofThisProcess() throws IOException {
        List<String> command = asStarted();
        ProcessHandle.current().info().command().ifPresent(java -> command.set(0, java));
        return command;
    }

    /**
     * A new master's (an upgrade): the command line as it was typed, argv[0]
     * too, so that the java it names is looked up again, as at a restart: a
     * link repointed at another JDK ("current", update-alternatives) or a
     * PATH entry now leads to the JDK the upgrade is meant to bring.
     */
    public static List<String> asStarted() throws IOException {
        List<String> command = parse(Files.readAllBytes(Path.of("/proc/self/cmdline")));
        if (command.isEmpty()) {
            throw new IOException("cannot read this JVM's command line from /proc/self/cmdline");
        }
        return command;
    }

    /** argv from /proc/PID/cmdline: NUL-terminated strings. */
    public static List<String> parse(byte[] cmdline) {
        List<String> args = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < cmdline.length; i++) {
            if (cmdline[i] == 0) {
                args.add(new String(cmdline, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        if (start < cmdline.length) {
            args.add(new String(cmdline, start, cmdline.length - start, StandardCharsets.UTF_8));
        }
        return args;
    }

    /**
     * command with options added at the end of the JVM's own, where they win
     * over the same options given before them on the command line or in
     * JAVA_TOOL_OPTIONS (HotSpot takes the last; _JAVA_OPTIONS still comes after).
     */
    public static List<String> withJvmOptions(List<String> command, List<String> options) {
        List<String> result = new ArrayList<>(command);
        result.addAll(endOfJvmOptions(result), options);
        return result;
    }

    /**
     * command (java first) for worker id, its debugger and JMX ports shifted
     * by its id, and by {@link Options#MAX_WORKERS} as well for the alternate
     * set (even generations), so that a process and the one that replaces it
     * (the next generation, which runs beside it) never want the same port,
     * nor any two slots' processes, whatever the count grows to.
     */
    public static List<String> forWorker(List<String> command, int id, boolean alternate) {
        int offset = id + (alternate ? Options.MAX_WORKERS : 0);
        List<String> result = new ArrayList<>(command);
        int end = endOfJvmOptions(result);
        for (int i = 1; i < end; i++) {
            String arg = result.get(i);
            if (WITH_VALUE.contains(arg)) {
                i++;
            } else if (arg.startsWith("-agentlib:jdwp=") || arg.startsWith("-Xrunjdwp:")) {
                int start = arg.indexOf(arg.startsWith("-X") ? ':' : '=') + 1;
                result.set(i, arg.substring(0, start) + shift(JDWP_ADDRESS, arg.substring(start), offset));
            } else if (arg.startsWith("-Dcom.sun.management.jmxremote.")) {
                result.set(i, shift(JMX_PORT, arg, offset));
            }
        }
        return result;
    }

    /**
     * Where the JVM's options end and the application's part begins: -jar,
     * -m, the main class or source file, or an @argfile (whose JVM options, if
     * it has any, are read after everything before it).
     */
    private static int endOfJvmOptions(List<String> command) {
        for (int i = 1; i < command.size(); i++) {
            String arg = command.get(i);
            if (arg.equals("-jar") || arg.equals("-m") || arg.equals("--module") || !arg.startsWith("-")) {
                return i;
            }
            if (WITH_VALUE.contains(arg)) {
                i++;
            }
        }
        return command.size();
    }

    /** Adds offset to the port the pattern's second group matches; port 0 (any) stays 0. */
    private static String shift(Pattern pattern, String text, int offset) {
        Matcher m = pattern.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            int port = Integer.parseInt(m.group(2));
            m.appendReplacement(out, Matcher.quoteReplacement(m.group(1) + (port == 0 ? 0 : port + offset)));
        }
        m.appendTail(out);
        return out.toString();
    }
}
