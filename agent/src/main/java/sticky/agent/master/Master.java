package sticky.agent.master;

import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import org.slf4j.Logger;
import sticky.agent.JdkAccess;
import sticky.agent.Logs;
import sticky.agent.Options;

/**
 * The JVM the user started. It runs no application code: it starts the
 * workers with its own command line, owns the listening sockets they ask for,
 * and hands each accepted connection to a worker. {@link #run} never returns;
 * the JVM exits when the cluster stops, with 0 when it stopped cleanly.
 * SIGTERM and SIGINT stop the cluster gracefully; SIGHUP replaces the workers
 * one at a time.
 */
public final class Master {
    /** Environment that makes a JVM started with the agent a worker. */
    public static final String ENV_WORKER_ID = "STICKY_WORKER_ID";
    public static final String ENV_CONTROL = "STICKY_CONTROL";
    public static final String ENV_SECRET = "STICKY_SECRET";

    private static final Logger log = Logs.get();

    private final Options options;
    private final String secret = newSecret();
    private final Listeners listeners;
    private Supervisor supervisor;
    private Path directory;
    private ControlServer control;
    private volatile boolean finished;

    private Master(Options options) {
        this.options = options;
        this.listeners = new Listeners(options.workers());
    }

    public static void run(Options options, Instrumentation inst) {
        JdkAccess.open(inst);
        Master master = new Master(options);
        int code;
        try {
            code = master.runCluster();
        } catch (Exception e) {
            log.error("master failed: {}", e.toString());
            code = 1;
        }
        master.stopWorkers();
        master.finished = true;
        System.exit(code);
    }

    private int runCluster() throws IOException, InterruptedException {
        directory = Files.createTempDirectory("sticky-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path socket = directory.resolve("control");
        List<String> command = WorkerCommand.ofThisProcess();
        int workers = options.workers();
        supervisor = new Supervisor(workers, (id, alternate) -> {
            ProcessBuilder builder = new ProcessBuilder(WorkerCommand.forWorker(command, id, workers, alternate));
            builder.inheritIO();
            builder.environment().put(ENV_WORKER_ID, Integer.toString(id));
            builder.environment().put(ENV_CONTROL, socket.toString());
            builder.environment().put(ENV_SECRET, secret);
            return builder;
        }, listeners, options.shutdownTimeoutMs());
        control = new ControlServer(socket, secret, workers, listeners, supervisor);
        control.start();
        Runtime.getRuntime().addShutdownHook(new Thread(this::stopOnSignal, "sticky-shutdown"));
        Signals.onHangup(supervisor::reload);
        supervisor.startAll();
        return supervisor.awaitEnd();
    }

    /** SIGTERM, SIGINT (Ctrl-C): stop the workers and exit 0 if they all stopped in time. */
    private void stopOnSignal() {
        if (finished) {
            return;
        }
        log.info("stopping: workers have {} ms to finish", options.shutdownTimeoutMs());
        boolean clean = stopWorkers();
        Runtime.getRuntime().halt(clean ? 0 : 1);
    }

    private synchronized boolean stopWorkers() {
        boolean clean = supervisor == null || supervisor.stop();
        if (control != null) {
            control.close();
            control = null;
        }
        if (directory != null) {
            try {
                Files.deleteIfExists(directory.resolve("control"));
                Files.deleteIfExists(directory);
            } catch (IOException e) {
                log.debug("could not remove {}: {}", directory, e.toString());
            }
            directory = null;
        }
        return clean;
    }

    private static String newSecret() {
        byte[] bytes = new byte[16];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
