package sticky.agent.master;

import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import sticky.agent.JdkAccess;
import sticky.agent.Logs;
import sticky.agent.Options;
import sticky.agent.Protocol.Hello;

/**
 * The JVM the user started. It runs no application code: it spawns the
 * workers with its own command line, owns the listening sockets they ask for,
 * and hands each accepted connection to a worker. {@link #run} never returns;
 * the JVM exits when the cluster stops, with 0 when it stopped cleanly.
 */
public final class Master {
    /** Environment that makes a JVM started with the agent a worker. */
    public static final String ENV_WORKER_ID = "STICKY_WORKER_ID";
    public static final String ENV_CONTROL = "STICKY_CONTROL";
    public static final String ENV_SECRET = "STICKY_SECRET";

    private static final Logger log = Logs.get();
    private static final long STOP_TIMEOUT_MS = 30_000;

    private final Options options;
    private final String secret = newSecret();
    private final Listeners listeners;
    private final Process[] workers;
    private Path directory;
    private ControlServer control;
    private volatile boolean stopping;
    private volatile boolean finished;

    private Master(Options options) {
        this.options = options;
        this.listeners = new Listeners(options.workers());
        this.workers = new Process[options.workers()];
    }

    public static void run(Options options, Instrumentation inst) {
        JdkAccess.open(inst);
        int code;
        Master master = new Master(options);
        try {
            code = master.runCluster();
        } catch (Exception e) {
            log.error("master failed: {}", e.toString());
            master.stop();
            code = 1;
        }
        master.finished = true;
        System.exit(code);
    }

    private int runCluster() throws IOException, InterruptedException {
        directory = Files.createTempDirectory("sticky-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path socket = directory.resolve("control");
        control = new ControlServer(socket, secret, options.workers(), listeners, this::ready);
        control.start();
        Runtime.getRuntime().addShutdownHook(new Thread(this::stopOnSignal, "sticky-shutdown"));

        List<String> command = WorkerCommand.ofThisProcess();
        for (int id = 1; id <= workers.length; id++) {
            ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
            builder.environment().put(ENV_WORKER_ID, Integer.toString(id));
            builder.environment().put(ENV_CONTROL, socket.toString());
            builder.environment().put(ENV_SECRET, secret);
            workers[id - 1] = builder.start();
            log.info("worker {} started, pid {}", id, workers[id - 1].pid());
        }
        boolean allClean = true;
        for (int id = 1; id <= workers.length; id++) {
            int code = workers[id - 1].waitFor();
            if (!stopping) {
                log.warn("worker {} (pid {}) exited with code {}", id, workers[id - 1].pid(), code);
                allClean &= code == 0;
            }
        }
        if (!stopping) {
            log.info("all workers have exited; master stops");
        }
        cleanUp();
        return allClean ? 0 : 1;
    }

    private void ready(Hello hello) {
        log.debug("worker {} ready, pid {}", hello.worker(), hello.pid());
    }

    /** SIGTERM, SIGINT (Ctrl-C), or System.exit: stop the workers and exit 0 if they all stopped in time. */
    private void stopOnSignal() {
        if (finished) {
            return;
        }
        boolean clean = stop();
        Runtime.getRuntime().halt(clean ? 0 : 1);
    }

    private boolean stop() {
        stopping = true;
        listeners.closeAll();
        for (Process worker : workers) {
            if (worker != null) {
                worker.destroy();
            }
        }
        boolean clean = true;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STOP_TIMEOUT_MS);
        for (int id = 1; id <= workers.length; id++) {
            Process worker = workers[id - 1];
            if (worker == null) {
                continue;
            }
            try {
                long left = Math.max(0, deadline - System.nanoTime());
                if (!worker.waitFor(left, TimeUnit.NANOSECONDS)) {
                    log.warn("worker {} (pid {}) did not stop in time; killed", id, worker.pid());
                    worker.destroyForcibly();
                    clean = false;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                worker.destroyForcibly();
                clean = false;
            }
        }
        cleanUp();
        return clean;
    }

    private synchronized void cleanUp() {
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
    }

    private static String newSecret() {
        byte[] bytes = new byte[16];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
