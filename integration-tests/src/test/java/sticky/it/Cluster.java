package sticky.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A real JVM running one of the sample apps, with or without
 * -javaagent:sticky.jar, its stdout and stderr collected line by line.
 * Closing it ends the JVM and every process it started, even when the master
 * was killed first (its workers are remembered as they appear).
 */
final class Cluster implements AutoCloseable {
    /**
     * How long a cluster may take to start, and the bound of most waits on it:
     * 60 s, times sticky.test.slowdown (scripts/test-aarch64 runs every JVM
     * emulated, about ten times slower).
     */
    static final Duration START = Duration.ofSeconds(60L * Integer.getInteger("sticky.test.slowdown", 1));
    static final Path JAR = Path.of(System.getProperty("sticky.jar"));
    static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    /**
     * How the JVMs a test starts run their code: C1 only, as they live seconds
     * and C2 would spend the cores on code that never gets hot; or, with
     * sticky.test.jit=off, interpreted (scripts/test-aarch64: under qemu-user
     * every compiled method is new code for the emulator to translate, and a
     * cluster's start takes about a third less CPU without it).
     */
    static final String COMPILER = "off".equals(System.getProperty("sticky.test.jit")) ? "-Xint"
            : "-XX:TieredStopAtLevel=1";

    private final Process process;
    /** Where the master keeps its directory: the TMPDIR it was started with, or /tmp. */
    private final Path socketsParent;
    private final List<String> lines = new ArrayList<>();
    private final Set<ProcessHandle> started = new LinkedHashSet<>();
    /** Processes the master did not start but that belong to this cluster: masters an upgrade started. */
    private final Set<ProcessHandle> tracked = new LinkedHashSet<>();

    private Cluster(List<String> command) throws IOException {
        this(command, Map.of());
    }

    private Cluster(List<String> command, Map<String, String> env) throws IOException {
        if (!Files.isRegularFile(JAR)) {
            fail("no agent at " + JAR + ": run mvn package first");
        }
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(env);
        socketsParent = MasterStatus.parent(builder.environment().get("TMPDIR"));
        process = builder.start();
        Thread reader = new Thread(this::read, "output-of-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    /** The app under the agent; options as after "sticky.jar=". */
    static Cluster withAgent(String options, Class<?> app, String... args) throws IOException {
        return withAgent(options, List.of(), app, args);
    }

    /** The app under the agent, with more JVM options. */
    static Cluster withAgent(String options, List<String> jvmOptions, Class<?> app, String... args) throws IOException {
        return withAgent(options, jvmOptions, List.of(), app, args);
    }

    /** The app under the agent, with more variables in its environment. */
    static Cluster withAgent(String options, Map<String, String> env, Class<?> app, String... args) throws IOException {
        return new Cluster(command(List.of("-javaagent:" + JAR + "=" + options), app, args), env);
    }

    /** The same, java itself run by a wrapper command that execs it (such as setpriv). */
    static Cluster withAgent(String options, List<String> jvmOptions, List<String> wrapper, Class<?> app,
            String... args) throws IOException {
        List<String> jvm = new ArrayList<>(jvmOptions);
        jvm.add("-javaagent:" + JAR + (options.isEmpty() ? "" : "=" + options));
        List<String> command = new ArrayList<>(wrapper);
        command.addAll(command(jvm, app, args));
        return new Cluster(command);
    }

    /** The app under the agent, run by the java executable at java (a link, say) instead of this JVM's. */
    static Cluster withAgentOnJava(Path java, String options, Class<?> app, String... args) throws IOException {
        List<String> command = command(List.of("-javaagent:" + JAR + "=" + options), app, args);
        command.set(0, java.toString());
        return new Cluster(command);
    }

    /** A command of the test's own making (commandWithAgent's, changed), with more environment. */
    static Cluster withCommand(List<String> command, Map<String, String> env) throws IOException {
        return new Cluster(command, env);
    }

    /** java -javaagent:sticky.jar=options -jar appJar args. */
    static Cluster withAgentOnJar(String options, Path appJar, String... args) throws IOException {
        return withAgentOnJar(options, Map.of(), appJar, args);
    }

    /** The same, with more variables in its environment. */
    static Cluster withAgentOnJar(String options, Map<String, String> env, Path appJar, String... args)
            throws IOException {
        List<String> command = new ArrayList<>(List.of(JAVA, "-Xmx128m", COMPILER,
                "-javaagent:" + JAR + "=" + options, "-jar", appJar.toString()));
        command.addAll(List.of(args));
        return new Cluster(command, env);
    }

    /** The app under the agent with classPath (such as a jar of it) as its class path, and more environment. */
    static Cluster withAgentOnClassPath(String options, Map<String, String> env, String classPath, Class<?> app,
            String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(JAVA, "-Xmx128m", COMPILER,
                "-javaagent:" + JAR + "=" + options, "-cp", classPath, app.getName()));
        command.addAll(List.of(args));
        return new Cluster(command, env);
    }

    /** The app under the agent jar at agentJar (a copy that a test replaces), with more environment. */
    static Cluster withAgentJar(Path agentJar, String options, Map<String, String> env, Class<?> app, String... args)
            throws IOException {
        return new Cluster(command(List.of("-javaagent:" + agentJar + "=" + options), app, args), env);
    }

    /** java JVM-OPTIONS @argfile: the rest of the command line in a file, which a test may edit. */
    static Cluster withArgFile(List<String> jvmOptions, Path argFile, List<String> args) throws IOException {
        Files.write(argFile, args);
        List<String> command = new ArrayList<>(List.of(JAVA));
        command.addAll(jvmOptions);
        command.add("@" + argFile);
        return new Cluster(command);
    }

    /** What withArgFile's file holds for the app under the agent. */
    static List<String> argsWithAgent(String options, Class<?> app, String... args) {
        List<String> command = command(List.of("-javaagent:" + JAR + "=" + options), app, args);
        return command.subList(1, command.size());
    }

    /**
     * A master an upgrade started, named in the upgrade's answer ("upgraded:
     * master N took over from master M, ..."): its pid, remembered so that
     * close() ends it and its workers too.
     */
    long tookOverBy(String upgradeAnswer) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("upgraded: master (\\d+) took over from master \\d+")
                .matcher(upgradeAnswer);
        if (!m.find()) {
            fail("not an upgrade's answer: " + upgradeAnswer);
        }
        long pid = Long.parseLong(m.group(1));
        track(pid);
        return pid;
    }

    /** Remembers a master this cluster's started (an upgrade's), so that close() ends it and its workers too. */
    void track(long pid) {
        synchronized (tracked) {
            ProcessHandle.of(pid).ifPresent(tracked::add);
        }
        rememberWorkers();
    }

    /** The same app as a plain JVM, to compare with. */
    static Cluster withoutAgent(Class<?> app, String... args) throws IOException {
        return new Cluster(command(List.of(), app, args));
    }

    /**
     * The app under the agent without the small heap every other cluster here
     * gets: the JVM sizes its heap itself (options may hold a wrapper's
     * command first, then java's options).
     */
    static Cluster withAgentSizingItsHeap(String options, List<String> wrapper, List<String> jvmOptions,
            Map<String, String> env, Class<?> app, String... args) throws IOException {
        List<String> command = new ArrayList<>(wrapper);
        command.addAll(List.of(JAVA, COMPILER));
        command.addAll(jvmOptions);
        if (options != null) {
            command.add("-javaagent:" + JAR + "=" + options);
        }
        command.addAll(List.of("-cp", classPath(), app.getName()));
        command.addAll(List.of(args));
        return new Cluster(command, env);
    }

    /** The command line withAgent starts: java, the agent with options, the app and args. */
    static List<String> commandWithAgent(String options, Class<?> app, String... args) {
        return command(List.of("-javaagent:" + JAR + "=" + options), app, args);
    }

    private static List<String> command(List<String> jvmOptions, Class<?> app, String... args) {
        List<String> command = new ArrayList<>(List.of(JAVA, "-Xmx128m", COMPILER));
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(classPath());
        command.add(app.getName());
        command.addAll(List.of(args));
        return command;
    }

    private static String classPath() {
        List<String> entries = new ArrayList<>(List.of(System.getProperty("sticky.apps")));
        try (Stream<Path> libs = Files.list(Path.of(System.getProperty("sticky.app.libs")))) {
            libs.map(Path::toString).sorted().forEach(entries::add);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return String.join(File.pathSeparator, entries);
    }

    private void read() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                System.out.println("[" + process.pid() + "] " + line);
                synchronized (lines) {
                    lines.add(line);
                    lines.notifyAll();
                }
            }
        } catch (IOException ignored) {
            // the process is gone
        }
    }

    /** Waits until count lines match; returns them. Fails with the output so far after the timeout. */
    List<String> await(Predicate<String> matching, int count, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lines) {
            while (true) {
                rememberWorkers();
                List<String> found = lines.stream().filter(matching).collect(Collectors.toList());
                if (found.size() >= count) {
                    return found;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    fail("waited " + timeout + " for " + count + " matching lines; output:\n" + String.join("\n", lines));
                }
                lines.wait(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 200)));
            }
        }
    }

    /** Waits for "listening PORT" from count JVMs; returns the distinct ports in order of appearance. */
    List<Integer> awaitListening(int count) throws InterruptedException {
        return await(l -> l.startsWith("listening "), count, START).stream()
                .map(l -> Integer.parseInt(l.substring("listening ".length()).trim()))
                .distinct().collect(Collectors.toList());
    }

    int awaitPort(int workers) throws InterruptedException {
        List<Integer> ports = awaitListening(workers);
        if (ports.size() != 1) {
            fail("workers report different ports: " + ports);
        }
        return ports.get(0);
    }

    String output() {
        synchronized (lines) {
            return String.join("\n", lines);
        }
    }

    Process process() {
        return process;
    }

    /** The master's live children, the workers; remembered so that close() can end them even after the master. */
    List<ProcessHandle> workers() {
        rememberWorkers();
        return process.children().collect(Collectors.toList());
    }

    private void rememberWorkers() {
        process.descendants().forEach(started::add);
        synchronized (tracked) {
            for (ProcessHandle master : tracked) {
                started.add(master);
                master.descendants().forEach(started::add);
            }
        }
    }

    /**
     * Sends a signal to the master with kill(1). (Process.destroy() would send
     * SIGTERM too, but it also closes the process's output, which tests read.)
     */
    void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).start();
        if (kill.waitFor() != 0) {
            fail("kill -" + name + " " + process.pid() + " failed");
        }
    }

    /** The master's directory of sockets, in the TMPDIR it was started with (see MasterStatus#directoryOf). */
    Path directory() throws IOException {
        return MasterStatus.directoryOf(socketsParent, process.pid());
    }

    MasterStatus status() throws IOException {
        return MasterStatus.of(socketsParent, process.pid());
    }

    /** Waits until every one of the master's workers serves, none replaced or leaving; the status then. */
    MasterStatus awaitServing(int workers) throws IOException, InterruptedException {
        return awaitStatus(MasterStatus.serving(workers));
    }

    /**
     * reload --wait on the master's admin socket: returns once the rolling
     * restart is over; null when every worker was replaced, else why not.
     */
    String reloadAndWait() throws IOException {
        return MasterStatus.request(socketsParent, process.pid(), "reload --wait").failure();
    }

    /** Waits until the master's status (status --json) satisfies condition. */
    MasterStatus awaitStatus(Predicate<MasterStatus> condition) throws IOException, InterruptedException {
        return awaitStatus(condition, START);
    }

    /** The same, waiting up to timeout. */
    MasterStatus awaitStatus(Predicate<MasterStatus> condition, Duration timeout) throws IOException, InterruptedException {
        return MasterStatus.await(socketsParent, process.pid(), condition, timeout);
    }

    Integer waitForExit(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : null;
    }

    @Override
    public void close() throws InterruptedException {
        rememberWorkers();
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
        for (ProcessHandle p : started) {
            p.destroyForcibly();
        }
        for (ProcessHandle p : started) {
            p.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(e -> p).join();
        }
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
