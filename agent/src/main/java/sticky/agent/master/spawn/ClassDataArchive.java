package sticky.agent.master.spawn;

import com.sun.management.VMOption;
import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.slf4j.Logger;
import sticky.agent.common.Environment;
import sticky.agent.jvm.Logs;

/**
 * cds=on: the workers share class data, through the AOT cache of JDK 25
 * (JEP 483, JEP 514). One worker, started while there is no cache, is the
 * training run (-XX:AOTMode=record): it writes the AOT configuration of what
 * it loaded and linked as it leaves (at a rolling restart, a replacement, a
 * stop; not when killed), to a file of its own in
 * {@code <the master's per-user directory>/cds/}; the master then makes the
 * cache from it with the worker's own command in AOTMode=create (which runs
 * no agent and no application; its output goes to a file, whose last line
 * a failure's warning quotes, where JEP 514's one-step AOTCacheOutput would
 * print six lines, the command among them, to the application's) and
 * renames it into place. Every worker started once it is there maps it
 * (-XX:AOTCache): the rest of a rolling restart, respawns, replacements,
 * and every worker of the next master with the same command. The cache is
 * written once the worker has finished its requests, so it costs none.
 *
 * <p>Not before JDK 25: a dynamic CDS archive (-XX:ArchiveClassesAtExit,
 * JDK 13+) refuses a JVM with a Java agent unless
 * -XX:+AllowArchivingWithJavaAgent, a diagnostic flag HotSpot says is for
 * testing only and prints so at every start of a JVM that maps the archive.
 * The AOT cache takes classes of a JVM with an agent (those the agent
 * changes are skipped and changed again at load).
 *
 * <p>The cache's name is a digest of the JDK, the worker command and the
 * size and time of every class path entry, so that a changed jar or option
 * gets a new one; the JVM checks it again itself and starts without a cache
 * that does not fit or is broken (AOTMode=auto, the default), which the
 * worker then removes (worker.ClassData) so that a later one writes a new
 * one. Off where the command line manages class data sharing itself
 * (-Xshare, -XX:SharedArchiveFile, ArchiveClassesAtExit, the AOT flags and
 * the like), where the JVM maps no archive of the JDK's, where the class
 * path has a directory with files (HotSpot caches classes from jar files
 * only), and for a Spring Boot executable jar, whose classes come from
 * nested jars the cache cannot hold.
 */
public final class ClassDataArchive {
    private static final Logger log = Logs.get();
    /** HotSpot flags by which the user manages CDS, JDK 17 to 25 (those a JDK does not have are skipped). */
    private static final List<String> USER_CDS_FLAGS = List.of("SharedArchiveFile", "ArchiveClassesAtExit",
            "RecordDynamicDumpInfo", "AutoCreateSharedArchive", "AOTCache", "AOTCacheOutput",
            "AOTConfiguration", "AOTMode");
    /** How long the master gives the JVM that makes the cache. */
    private static final long CREATE_TIMEOUT_S = 120;
    /** Workers asked to write the archive: one at a time, and no more (each may be killed before it leaves). */
    private static final int MAX_ATTEMPTS = 3;
    /** The exit code of a JVM killed by SIGKILL, which wrote nothing whole. */
    private static final int KILLED = 128 + 9;
    /** The room the cache's directory must have: a cache of a large application takes some 100 MiB. */
    private static final long MIN_FREE = 128L << 20;

    /** What a worker about to start gets: JVM options, and environment for the agent in it. */
    public record ForWorker(List<String> jvmOptions, Map<String, String> environment) {
        static final ForWorker NONE = new ForWorker(List.of(), Map.of());
    }

    private static final String WRITE = "-XX:AOTConfiguration=";
    private static final String PREFIX = "workers-";

    /** Null: off. */
    private final Path archive;
    private final List<String> quiet;
    /** A worker records for the cache, or the cache is being made from its record: nobody else is asked. */
    private boolean writing;
    private CompletableFuture<Void> written = CompletableFuture.completedFuture(null);
    private int attempts;

    private ClassDataArchive(Path archive, List<String> quiet) {
        this.archive = archive;
        this.quiet = quiet;
    }

    /** For workers of command (java first), the archive kept under base (the master's per-user directory). */
    public static ClassDataArchive of(boolean on, List<String> command, Path base) {
        String why = on ? unsupported() : "cds=off";
        if (why != null) {
            log.debug("class data sharing between workers is off: {}", why);
            return new ClassDataArchive(null, List.of());
        }
        String bootLauncher = springBootLauncher(command);
        if (bootLauncher != null) {
            // Measured (bench/memory, 2026-12-01): a cache of the JDK's and the launcher's classes alone made
            // each idle worker of the sample app 40% larger in PSS, and served a respawn 14-21% sooner.
            log.info("class data sharing between workers is off: a Spring Boot executable jar ({}) loads the "
                    + "application's classes from nested jars, which the cache cannot hold, and without them it costs "
                    + "workers more memory than it saves them time; run the jar extracted (java -Djarmode=tools -jar "
                    + "app.jar extract) to share them", bootLauncher);
            return new ClassDataArchive(null, List.of());
        }
        try {
            Path dir = Files.createDirectories(base.resolve("cds"));
            Path archive = dir.resolve(name(command));
            removeParts(archive);
            String full = tooFull(dir);
            if (full != null) {
                log.warn("class data sharing between workers is off: {}", full);
                return new ClassDataArchive(null, List.of());
            }
            // HotSpot's unified logging warns on stdout about each class it cannot cache, and about a cache
            // it cannot use: not the application's output. A user's own -Xlog of these stays.
            boolean userLogsCds = command.stream().anyMatch(a -> a.startsWith("-Xlog") && (a.contains("cds") || a.contains("aot")));
            List<String> quiet = userLogsCds ? List.of() : List.of("-Xlog:aot*=off,cds*=off");
            log.info(Files.exists(archive) ? "workers share the class data cache {}"
                    : "the first worker writes the class data cache {} as it leaves (a rolling restart, a stop); "
                            + "workers started after that share it", archive);
            return new ClassDataArchive(archive, quiet);
        } catch (IOException | NoSuchAlgorithmException e) {
            log.warn("class data sharing between workers is off: {}", e.toString());
            return new ClassDataArchive(null, List.of());
        }
    }

    /** Why workers cannot share an archive of their own, or null. */
    private static String unsupported() {
        // -Xshare is no flag one can read (JDK 25 has no UseSharedSpaces); the input arguments have it,
        // from the command line, JAVA_TOOL_OPTIONS, JDK_JAVA_OPTIONS and @argfiles alike.
        if (ManagementFactory.getRuntimeMXBean().getInputArguments().stream().anyMatch(a -> a.startsWith("-Xshare"))) {
            return "the command line sets -Xshare itself";
        }
        for (String flag : USER_CDS_FLAGS) {
            VMOption option = VmFlags.get(flag);
            if (option != null && VmFlags.setByUser(option)) {
                return "the command line sets -XX:" + flag + " itself";
            }
        }
        // AOTCacheOutput came with JDK 25 (JEP 514): the JDK this is tested on. JDK 24 has the two-step
        // AOTMode used here, but its AOT cache with a Java agent was not tried.
        if (VmFlags.get("AOTCacheOutput") == null) {
            return "it needs the AOT cache of JDK 25 and later (see the README)";
        }
        if (!mapsAnArchive()) {
            return "this JVM maps no class data archive of the JDK's (-Xshare:off, or a JDK built without one)";
        }
        for (String entry : classPath()) {
            Path p = Path.of(entry);
            if (Files.isDirectory(p)) {
                try (Stream<Path> files = Files.list(p)) {
                    if (files.findAny().isPresent()) {
                        return "the class path has a directory, " + p + " (HotSpot caches classes from jar files only)";
                    }
                } catch (IOException e) {
                    return "cannot read " + p + ": " + e;
                }
            }
        }
        return null;
    }

    /** The Main-Class of the -jar in command where it is Spring Boot's launcher, else null. */
    private static String springBootLauncher(List<String> command) {
        int jar = command.indexOf("-jar");
        if (jar < 0 || jar + 1 >= command.size()) {
            return null;
        }
        try (JarFile file = new JarFile(command.get(jar + 1))) {
            Manifest manifest = file.getManifest();
            String main = manifest == null ? null : manifest.getMainAttributes().getValue("Main-Class");
            return main != null && main.startsWith("org.springframework.boot.loader.") ? main : null;
        } catch (IOException e) {
            return null; // the JVM has just run it: unreadable now is no reason to say more
        }
    }

    private static boolean mapsAnArchive() {
        try (Stream<String> maps = Files.lines(Path.of("/proc/self/maps"))) {
            return maps.anyMatch(l -> l.endsWith(".jsa"));
        } catch (IOException e) {
            return false;
        }
    }

    private static String[] classPath() {
        return System.getProperty("java.class.path", "").split(File.pathSeparator);
    }

    /** The JDK and the command (one application), then the size and time of each class path entry (its build). */
    private static String name(List<String> command) throws IOException, NoSuchAlgorithmException {
        String application = System.getProperty("java.home") + '\0' + System.getProperty("java.vm.version") + '\0'
                + String.join("\0", command);
        StringBuilder build = new StringBuilder();
        for (String entry : classPath()) {
            Path p = Path.of(entry).toAbsolutePath();
            build.append('\0').append(p);
            if (Files.exists(p)) {
                build.append(' ').append(Files.size(p)).append(' ').append(Files.getLastModifiedTime(p).toMillis());
            }
        }
        return PREFIX + digest(application, 12) + "-" + digest(build.toString(), 8) + ".aot";
    }

    private static String digest(String text, int bytes) throws NoSuchAlgorithmException {
        byte[] hash = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(hash, 0, bytes);
    }

    /** The caches of the same application's earlier builds: replaced by this one, they would only fill the disk. */
    private void removeEarlierBuilds() throws IOException {
        String name = archive.getFileName().toString();
        String application = name.substring(0, name.lastIndexOf('-') + 1);
        try (Stream<Path> files = Files.list(archive.getParent())) {
            for (Path p : files.toList()) {
                String other = p.getFileName().toString();
                if (other.startsWith(application) && other.endsWith(".aot") && !other.equals(name)) {
                    Files.deleteIfExists(p); // a JVM that maps it keeps its pages
                }
            }
        }
    }

    /** Files a master that is gone was writing (it was killed before it could rename them): never whole for sure. */
    private static void removeParts(Path archive) throws IOException {
        String prefix = archive.getFileName() + ".part-";
        try (Stream<Path> files = Files.list(archive.getParent())) {
            for (Path p : files.filter(f -> f.getFileName().toString().startsWith(prefix)).toList()) {
                String pid = p.getFileName().toString().substring(prefix.length()).split("-")[0];
                if (!pid.matches("\\d{1,10}") || ProcessHandle.of(Long.parseLong(pid)).isEmpty()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** For the worker about to start: the archive if there is one; else, if nobody is at it, the job of writing it. */
    public synchronized ForWorker next() {
        if (archive == null) {
            return ForWorker.NONE;
        }
        if (Files.isRegularFile(archive)) {
            List<String> options = new ArrayList<>(quiet);
            options.add("-XX:AOTCache=" + archive);
            return new ForWorker(options, Map.of(Environment.CDS_ARCHIVE, archive.toString()));
        }
        if (writing || attempts == MAX_ATTEMPTS) {
            return ForWorker.NONE;
        }
        attempts++;
        Path part = archive.resolveSibling(archive.getFileName() + ".part-" + ProcessHandle.current().pid() + "-" + attempts);
        List<String> options = new ArrayList<>(quiet);
        options.addAll(List.of("-XX:AOTMode=record", WRITE + part + ".conf"));
        return new ForWorker(options, Map.of());
    }

    /** A worker was started with builder's command: the one that writes the archive, if it says so. */
    public synchronized void started(ProcessBuilder builder, Process process) {
        for (String arg : builder.command()) {
            if (arg.startsWith(WRITE)) {
                Path conf = Path.of(arg.substring(WRITE.length()));
                List<String> command = List.copyOf(builder.command());
                writing = true;
                // On a thread of its own: onExit's other dependents (the lifecycle's exit) run on the thread
                // that completes it, and must not wait the seconds the make takes.
                written = process.onExit().thenAcceptAsync(p -> {
                    finish(command, conf, p.exitValue());
                    synchronized (this) {
                        writing = false;
                    }
                }, task -> {
                    Thread t = new Thread(task, "sticky-class-data-cache");
                    t.setDaemon(true);
                    t.start();
                });
            }
        }
    }

    /**
     * The writer left: the cache is made from what it recorded, if it
     * recorded it whole, and put in place. Off the master's loop, and
     * without the lock, which next() takes on the loop: this takes seconds.
     */
    private void finish(List<String> writerCommand, Path conf, int code) {
        String name = conf.getFileName().toString();
        Path part = conf.resolveSibling(name.substring(0, name.length() - ".conf".length()));
        Path output = conf.resolveSibling(name + ".log");
        try {
            if (code == KILLED || !Files.isRegularFile(conf) || Files.size(conf) == 0) {
                log.debug("the worker writing the class data cache left with code {} and no configuration", code);
                return;
            }
            String full = tooFull(archive.getParent());
            if (full != null) {
                log.warn("the class data cache is not made: {}; workers start without one", full);
                return;
            }
            List<String> create = new ArrayList<>();
            for (String arg : writerCommand) {
                create.add(arg.equals("-XX:AOTMode=record") ? "-XX:AOTMode=create" : arg);
            }
            create.add(1, "-XX:AOTCache=" + part);
            Process maker = new ProcessBuilder(create).redirectErrorStream(true).redirectOutput(output.toFile()).start();
            if (!maker.waitFor(CREATE_TIMEOUT_S, TimeUnit.SECONDS)) {
                maker.destroyForcibly();
                log.warn("making the class data cache took over {} s; workers start without one", CREATE_TIMEOUT_S);
            } else if (maker.exitValue() != 0 || !Files.isRegularFile(part)) {
                log.warn("making the class data cache failed (exit {}): {}", maker.exitValue(), lastLine(output));
            } else {
                Files.move(part, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                removeEarlierBuilds();
                log.info("made the class data cache {} ({} KiB) from what a leaving worker loaded; workers started "
                        + "from now on share it", archive, Files.size(archive) >> 10);
            }
        } catch (IOException e) {
            log.warn("could not make the class data cache {}: {}", archive, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            for (Path p : List.of(conf, output, part)) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // a part file left behind is removed by the next master (removeParts)
                }
            }
        }
    }

    /**
     * Why dir has no room for a cache (HotSpot, short of it, fails the JVM
     * that makes it with "Unable to use AOT cache" on the application's
     * output, and says no more), or null.
     */
    private static String tooFull(Path dir) throws IOException {
        long free = Files.getFileStore(dir).getUsableSpace();
        return free >= MIN_FREE ? null : dir + " has " + (free >> 10) + " KiB free, and a cache takes tens of MiB (at "
                + "least " + (MIN_FREE >> 20) + " MiB free are asked for; TMPDIR names another directory)";
    }

    private static String lastLine(Path output) throws IOException {
        List<String> lines = Files.readAllLines(output);
        return lines.isEmpty() ? "no output" : lines.get(lines.size() - 1);
    }

    /** Before the master exits: the last writer's archive is put in place (it has left with the others). */
    public void awaitWritten() {
        CompletableFuture<Void> last;
        synchronized (this) {
            last = written;
        }
        try {
            last.get(CREATE_TIMEOUT_S + 5, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.debug("the class data archive was not put in place: {}", e.toString());
        }
    }
}
