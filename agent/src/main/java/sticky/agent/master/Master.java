package sticky.agent.master;

import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import sticky.agent.master.listen.ActivatedSockets;
import sticky.agent.master.listen.Listeners;
import sticky.agent.JdkAccess;
import sticky.agent.Logs;
import sticky.agent.Options;
import sticky.agent.common.ControlPaths;
import sticky.agent.common.Environment;
import sticky.agent.common.SlotCounts;
import sticky.agent.unix.SystemdNotify;

/**
 * The JVM the user started. It runs no application code: it starts the
 * workers with its own command line, owns the listening sockets they ask for,
 * and hands each accepted connection to a worker. {@link #run} never returns;
 * the JVM exits when the cluster stops, with 0 when it stopped cleanly.
 * SIGTERM and SIGINT stop the cluster gracefully; SIGHUP replaces the workers
 * one at a time.
 */
public final class Master {
    private static final Logger log = Logs.get();

    private final Options options;
    private final String secret = newSecret();
    private final MasterLoop loop = new MasterLoop();
    private final Listeners listeners;
    private final long started = System.nanoTime();
    private Lifecycle lifecycle;
    private ClassDataArchive classData;
    /** Connections workers accepted from the kernel themselves; the master's own handoffs are in listeners. */
    private SlotCounts accepted;
    private Path directory;
    private ControlServer control;
    private AdminServer admin;
    private MetricsServer metrics;
    private final Object metricsLock = new Object();
    private HealthCheck health;
    private Upgrade upgrade;
    private volatile boolean finished;

    private Master(Options options) {
        this.options = options;
        this.listeners = new Listeners(options.workers(), options.router(), options.kernelDispatch(),
                ActivatedSockets.fromEnvironment());
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
        int uid = ControlPaths.currentUid();
        directory = ControlDirectory.create(uid, ProcessHandle.current().pid());
        Path socket = directory.resolve(ControlPaths.CONTROL);
        accepted = SlotCounts.create(directory.resolve(SlotCounts.FILE), options.workers());
        int workers = options.workers();
        List<String> command = WorkerCommand.withJvmOptions(WorkerCommand.ofThisProcess(),
                concat(ProcessorShare.jvmOptions(options.cpus(), workers),
                        MemoryShare.jvmOptions(options.shareMemory(), workers)));
        classData = ClassDataArchive.of(options.cds(), command, directory.getParent());
        ProcessSpawner spawner = new ProcessSpawner((slot, generation) -> {
            int id = slot + 1;
            boolean alternate = generation % 2 == 0; // odd and even generations get different JDWP and JMX ports
            ClassDataArchive.ForWorker cds = classData.next();
            ProcessBuilder builder = new ProcessBuilder(WorkerCommand.withJvmOptions(
                    WorkerCommand.forWorker(command, id, workers, alternate), cds.jvmOptions()));
            builder.inheritIO();
            builder.environment().putAll(cds.environment());
            builder.environment().put(Environment.WORKER_ID, Integer.toString(id));
            builder.environment().put(Environment.CONTROL, socket.toString());
            builder.environment().put(Environment.SECRET, secret);
            // The master speaks to systemd; an application that notifies by itself would confuse it.
            builder.environment().remove("NOTIFY_SOCKET");
            // Sockets the service manager passed in are the master's (and not inherited: the JDK closes them).
            builder.environment().remove("LISTEN_PID");
            builder.environment().remove("LISTEN_FDS");
            builder.environment().remove("LISTEN_FDNAMES");
            return builder;
        }, classData::started, (pid, code) -> loop.post(() -> lifecycle.exited(pid, code)));
        Notifier notifier = notifier(workers);
        Predecessor predecessor = null;
        if (Predecessor.upgrading()) {
            try {
                predecessor = Predecessor.takeSockets(workers, loop, listeners, notifier, this::startMetrics);
            } catch (IOException e) {
                log.error("upgrade: cannot take over from the old master: {}", e.getMessage());
                return 1;
            }
            notifier = predecessor;
        }
        lifecycle = new Lifecycle(workers, spawner, listeners, new ConnectionDrain(listeners), loop,
                options.shutdownTimeoutMs(), parts(workers, notifier));
        if (predecessor == null) {
            startMetrics(); // else once the old master has let go of the port
        } else {
            lifecycle.continueFrom(predecessor.generations());
        }
        control = new ControlServer(socket, uid, secret, workers, loop, listeners, lifecycle);
        upgrade = new Upgrade(socket, secret, loop, listeners, lifecycle, this::stopMetrics, this::startMetrics);
        control.upgradeBy(upgrade);
        control.start();
        admin = new AdminServer(directory.resolve(ControlPaths.ADMIN), this::command);
        admin.start();
        ClusterBeans.register(workers, this::status, () -> {
            String refused = reload();
            return refused == null ? "rolling restart started" : refused;
        }, () -> upgrade().text().trim());
        Runtime.getRuntime().addShutdownHook(new Thread(this::stopOnSignal, "sticky-shutdown"));
        Signals.onHangup(() -> loop.post(lifecycle::reload));
        loop.post(lifecycle::start);
        if (options.health() != null) {
            boolean proxyHeader = options.router().mode() == sticky.agent.route.Router.Mode.PROXY
                    && !options.router().strips();
            health = new HealthCheck(options.health(), options.watchdogMs(), proxyHeader, workers, loop, lifecycle,
                    listeners);
            loop.post(health::start);
        }
        MasterHeap.trim();
        try {
            return (Integer) (predecessor == null ? lifecycle.end()
                    : java.util.concurrent.CompletableFuture.anyOf(lifecycle.end(), predecessor.failed())).get();
        } catch (java.util.concurrent.ExecutionException e) {
            return 1;
        }
    }

    /** Not the master's lock: the loop stops the metrics at an upgrade while a stop may hold that lock and wait for the loop. */
    private void startMetrics() {
        synchronized (metricsLock) {
            if (options.metrics() != null && metrics == null) {
                try {
                    metrics = new MetricsServer(options.metrics(), this::status);
                } catch (IOException e) {
                    log.error("metrics on {}: {}", options.metrics(), e.getMessage());
                }
            }
        }
    }

    private void stopMetrics() {
        synchronized (metricsLock) {
            if (metrics != null) {
                metrics.close();
                metrics = null;
            }
        }
    }

    /** A new master in this one's place: the answer once it took over, or why it did not. */
    private AdminServer.Answer upgrade() {
        String failed = upgrade.run();
        return failed == null ? new AdminServer.Answer(0, "upgraded: master " + ProcessHandle.current().pid()
                + " handed over and leaves once its workers finish\n") : new AdminServer.Answer(1, failed + "\n");
    }

    /** Null when a rolling restart started, or why not. */
    private String reload() {
        try {
            return loop.ask(lifecycle::reload);
        } catch (Exception e) {
            return "reload failed: " + e.getMessage();
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> both = new java.util.ArrayList<>(a);
        both.addAll(b);
        return both;
    }

    /** max-memory and max-lifetime, the watchdog, and who is told of the lifecycle's states. */
    private Lifecycle.Parts parts(int workers, Notifier notifier) {
        Recycling recycling = new Recycling(options.maxMemoryBytes(), options.maxLifetimeMs(), ProcessMemory::pss, loop,
                new java.util.Random());
        Watchdog watchdog = new Watchdog(options.watchdogMs(), new WorkerProgress(accepted, listeners), loop);
        return new Lifecycle.Parts(recycling, watchdog, notifier);
    }

    /** systemd's notifications where NOTIFY_SOCKET is set. */
    private Notifier notifier(int workers) {
        SystemdNotify notify = SystemdNotify.fromEnvironment();
        return notify == null ? Notifier.NONE
                : new SystemdNotifier(notify, () -> workers + " workers serving on " + String.join(", ", listeners.names()));
    }

    /** What status reads of the loop's state, in one ask. */
    private record Seen(List<String> names, Set<Integer> ports, List<Lifecycle.SlotView> slots) {}

    ClusterStatus status() {
        Seen seen;
        try {
            seen = loop.ask(() -> new Seen(listeners.names(), listeners.ports(), lifecycle.view()));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        Set<Integer> ports = seen.ports();
        List<ClusterStatus.Worker> workers = seen.slots().stream()
                .map(v -> new ClusterStatus.Worker(v.slot() + 1, v.pid(), v.state(), v.uptimeMs(), v.restarts(),
                        listeners.dispatched(v.slot()) + accepted.acceptedBy(v.slot()), OpenConnections.count(v.pid(), ports),
                        v.lastReplaced(), v.replacements(),
                        options.privatePorts().stream().map(p -> p + v.slot() + 1).collect(Collectors.toList())))
                .collect(Collectors.toList());
        return new ClusterStatus(ProcessHandle.current().pid(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), options.shutdownTimeoutMs(),
                seen.names(), workers);
    }

    /** What the operator's command line asks through the admin socket. */
    private AdminServer.Answer command(String request) {
        switch (request) {
            case "status":
                return new AdminServer.Answer(0, status().text());
            case "status --json":
                return new AdminServer.Answer(0, status().json());
            case "metrics":
                return new AdminServer.Answer(0, status().prometheus());
            case "upgrade":
                return upgrade();
            case "reload": {
                String refused = reload();
                return refused == null ? new AdminServer.Answer(0, "rolling restart started\n")
                        : new AdminServer.Answer(1, refused + "\n");
            }
            case "stop": {
                log.info("stop requested by the operator");
                Thread exit = new Thread(() -> System.exit(0), "sticky-stop"); // runs the graceful stop hook
                exit.start();
                return new AdminServer.Answer(0, "stopping\n");
            }
            default:
                return new AdminServer.Answer(2, "unknown command '" + request + "'\n");
        }
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
        if (upgrade != null) {
            upgrade.abort();
        }
        if (health != null) {
            health.stop();
            health = null;
        }
        boolean clean = lifecycle == null || stopLifecycle();
        if (classData != null) {
            classData.awaitWritten(); // the workers have left: the one that recorded for the cache too
        }
        stopMetrics();
        if (admin != null) {
            admin.close();
            admin = null;
        }
        if (control != null) {
            control.close();
            control = null;
        }
        if (directory != null) {
            try {
                ControlDirectory.delete(directory);
            } catch (IOException e) {
                log.debug("could not remove {}: {}", directory, e.toString());
            }
            directory = null;
        }
        return clean;
    }

    /**
     * Waits for the workers to stop: the shutdown timeout to finish their
     * requests, as long again after SIGTERM, then SIGKILL and a little for the kernel.
     */
    private boolean stopLifecycle() {
        try {
            return loop.ask(lifecycle::stop).get(2 * options.shutdownTimeoutMs() + 10_000, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            log.error("stopping the workers: {}", e.toString());
            return false;
        } finally {
            loop.shutdown();
        }
    }

    private static String newSecret() {
        byte[] bytes = new byte[16];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
