package sticky.agent.master;

import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import sticky.agent.common.ControlPaths;
import sticky.agent.common.SlotCounts;
import sticky.agent.jvm.Heap;
import sticky.agent.jvm.JdkAccess;
import sticky.agent.jvm.Logs;
import sticky.agent.master.control.ControlDirectory;
import sticky.agent.master.control.ControlServer;
import sticky.agent.master.inspect.ConnectionDrain;
import sticky.agent.master.inspect.HealthCheck;
import sticky.agent.master.inspect.OpenConnections;
import sticky.agent.master.inspect.ProcessMemory;
import sticky.agent.master.inspect.WorkerProgress;
import sticky.agent.master.lifecycle.Count;
import sticky.agent.master.lifecycle.Lifecycle;
import sticky.agent.master.lifecycle.LifecycleListener;
import sticky.agent.master.lifecycle.MasterLoop;
import sticky.agent.master.lifecycle.Recycling;
import sticky.agent.master.lifecycle.ReloadOutcome;
import sticky.agent.master.lifecycle.SlotView;
import sticky.agent.master.lifecycle.Watchdog;
import sticky.agent.master.listen.ActivatedSockets;
import sticky.agent.master.listen.Listener;
import sticky.agent.master.listen.Listeners;
import sticky.agent.master.ops.AdminServer;
import sticky.agent.master.ops.ClusterBeans;
import sticky.agent.master.ops.ClusterStatus;
import sticky.agent.master.ops.MetricsServer;
import sticky.agent.master.ops.Operations;
import sticky.agent.master.ops.Signals;
import sticky.agent.master.ops.SystemdNotifier;
import sticky.agent.master.spawn.ClassDataArchive;
import sticky.agent.master.spawn.ProcessSpawner;
import sticky.agent.master.spawn.WorkerCommand;
import sticky.agent.master.spawn.WorkerProcess;
import sticky.agent.master.upgrade.Predecessor;
import sticky.agent.master.upgrade.Successor;
import sticky.agent.master.upgrade.UpgradeState;
import sticky.agent.options.Options;
import sticky.agent.route.Router;
import sticky.agent.unix.NativeSetup;
import sticky.agent.unix.SystemdNotify;

/**
 * The JVM the user started, and the composition root of the master's parts:
 * it runs no application code; it starts the workers with its own command
 * line ({@code spawn}), owns the listening sockets they ask for
 * ({@code listen}), keeps their lifecycle on one loop ({@code lifecycle}),
 * looks into them ({@code inspect}), talks to them ({@code control}), to
 * its operator ({@code ops}) and to the master an upgrade puts in its place
 * ({@code upgrade}). {@link #run} never returns; the JVM exits when the
 * cluster stops, with 0 when it stopped cleanly.
 */
public final class Master implements Operations {
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
    private final ClusterBeans beans = new ClusterBeans();
    private Successor successor;
    private Predecessor predecessor;
    private volatile boolean finished;

    /** The workers to start with: as many as asked, or, after an upgrade, as the old master ran (see Predecessor). */
    private final int workers;

    private Master(Options options) {
        this.options = options;
        this.workers = Predecessor.upgrading() ? Predecessor.workers(options.workers()) : options.workers();
        this.listeners = new Listeners(workers, options.router(), options.kernelDispatch(),
                ActivatedSockets.fromEnvironment());
    }

    public static void run(Options options, Instrumentation inst) {
        Signals.install();
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
        accepted = SlotCounts.create(directory.resolve(SlotCounts.FILE), Options.MAX_WORKERS);
        List<String> command = WorkerCommand.ofThisProcess();
        classData = ClassDataArchive.of(options.cds(), command, directory.getParent());
        WorkerProcess process = new WorkerProcess(command, socket, secret, options, classData);
        ProcessSpawner spawner = new ProcessSpawner((slot, generation) -> process.builder(slot, generation,
                lifecycle.count().asked()), classData::started, (pid, code) -> loop.post(() -> lifecycle.exited(pid, code)));
        SystemdNotify notify = SystemdNotify.fromEnvironment();
        SystemdNotifier systemd = notify == null ? null : new SystemdNotifier(notify,
                () -> lifecycle.count().routed() + " workers serving on " + String.join(", ", listeners.names()),
                Predecessor.upgrading());
        List<LifecycleListener> told = new ArrayList<>(List.of(beans));
        if (systemd != null) {
            told.add(systemd);
        }
        if (Predecessor.upgrading()) {
            try {
                predecessor = Predecessor.takeSockets(workers, loop, listeners, () -> {
                    lifecycle.tookOver();
                    if (systemd != null) {
                        systemd.tookOver();
                    }
                }, this::startMetrics);
            } catch (IOException e) {
                log.error("upgrade: cannot take over from the old master: {}", e.getMessage());
                return 1;
            }
            told.add(predecessor); // it takes over when every worker of this master's serves
        }
        lifecycle = new Lifecycle(workers, spawner, listeners, new ConnectionDrain(listeners), loop,
                options.shutdownTimeoutMs(), new Lifecycle.Parts(new Recycling(options.maxMemoryBytes(),
                        options.maxLifetimeMs(), ProcessMemory::pss, loop, new Random()),
                        new Watchdog(options.watchdogMs(), new WorkerProgress(accepted, listeners), loop), told));
        control = new ControlServer(socket, uid, secret, loop, listeners, lifecycle);
        successor = new Successor(socket, secret, options.workers(), loop, listeners, lifecycle, this::stopMetrics,
                this::startMetrics);
        control.upgradeBy(successor);
        if (predecessor != null) {
            lifecycle.continueFrom(predecessor.generations());
            lifecycle.joins();
        }
        // The workers first: their JVMs start while this one finishes its own (the control socket, which a
        // worker waits for, see worker.MasterSocket; JMX; metrics; signals).
        loop.post(lifecycle::start);
        NativeSetup.load(directory.getParent());
        control.start();
        Signals.actOn(new Signals.Actions() {
            public void hangup() {
                loop.post(() -> lifecycle.reload(null));
            }

            public void moreWorkers() {
                loop.post(() -> lifecycle.scale(lifecycle.count().asked() + 1, null));
            }

            public void fewerWorkers() {
                loop.post(() -> lifecycle.scale(Math.max(1, lifecycle.count().asked() - 1), null));
            }
        });
        admin = new AdminServer(directory.resolve(ControlPaths.ADMIN), this);
        admin.start();
        Runtime.getRuntime().addShutdownHook(new Thread(this::stopOnSignal, "sticky-shutdown"));
        if (predecessor == null) {
            startMetrics(); // else once the old master has let go of the port
        }
        beans.register(this, workers);
        if (options.health() != null) {
            boolean proxyHeader = options.router().mode() == Router.Mode.PROXY && !options.router().strips();
            health = new HealthCheck(options.health(), options.watchdogMs(), proxyHeader, loop, lifecycle, listeners);
            loop.post(health::start);
        }
        Heap.giveBackUnused();
        try {
            return (Integer) (predecessor == null ? lifecycle.end()
                    : CompletableFuture.anyOf(lifecycle.end(), predecessor.failed())).get();
        } catch (ExecutionException e) {
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

    @Override
    public AdminServer.Answer upgrade() {
        String failed = successor.run();
        return failed == null ? new AdminServer.Answer(0, "upgraded: master " + successor.state().master()
                + " took over from master " + ProcessHandle.current().pid() + ", which leaves once its workers finish\n")
                : new AdminServer.Answer(1, failed + "\n");
    }

    @Override
    public String reload() {
        try {
            return loop.ask(() -> lifecycle.reload(null));
        } catch (Exception e) {
            return "reload failed: " + e.getMessage();
        }
    }

    @Override
    public String reloadAndWait() {
        CompletableFuture<String> done = new CompletableFuture<>();
        try {
            String refused = loop.ask(() -> lifecycle.reload(done));
            return refused != null ? refused : done.get();
        } catch (Exception e) {
            return "reload failed: " + e.getMessage();
        }
    }

    @Override
    public AdminServer.Answer scale(String count) {
        CompletableFuture<String> done = new CompletableFuture<>();
        int[] asked = new int[1];
        try {
            String refused = loop.ask(() -> {
                int now = lifecycle.count().asked();
                asked[0] = count.startsWith("+") || count.startsWith("-") ? now + Integer.parseInt(count)
                        : Integer.parseInt(count);
                return lifecycle.scale(asked[0], done);
            });
            String failed = refused != null ? refused : done.get();
            return failed == null ? new AdminServer.Answer(0, "serving with " + asked[0] + " workers\n")
                    : new AdminServer.Answer(1, failed + "\n");
        } catch (Exception e) {
            return new AdminServer.Answer(1, "scale failed: " + e.getMessage() + "\n");
        }
    }

    @Override
    public void stop() {
        new Thread(() -> System.exit(0), "sticky-stop").start(); // runs the graceful stop hook
    }

    /** What status reads of the loop's state, in one ask. */
    private record Seen(List<Listener.View> listeners, Set<Integer> ports, List<SlotView> slots,
            ReloadOutcome reload, Count count) {}

    @Override
    public ClusterStatus status() {
        Seen seen;
        try {
            seen = loop.ask(() -> new Seen(listeners.view(), listeners.ports(), lifecycle.view(), lifecycle.lastReload(),
                    lifecycle.count()));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        Map<Long, Long> open = OpenConnections.count(seen.slots().stream().map(SlotView::pid).toList(),
                seen.ports());
        List<ClusterStatus.Worker> workers = new ArrayList<>();
        for (SlotView v : seen.slots()) {
            Map<String, Integer> replacements = new LinkedHashMap<>();
            v.replacements().forEach((reason, count) -> replacements.put(reason.label(), count));
            workers.add(new ClusterStatus.Worker(v.slot() + 1, v.pid(), v.state(), v.generation(), v.uptimeMs(),
                    v.restarts(), listeners.dispatched(v.slot()) + accepted.acceptedBy(v.slot()),
                    open.get(v.pid()),
                    v.lastReplaced() == null ? null : v.lastReplaced().label(), replacements,
                    options.privatePorts().stream().map(p -> p + v.slot() + 1).toList(), v.replacement(), v.leaving()));
        }
        UpgradeState upgrade = predecessor != null ? predecessor.state() : successor.state();
        return new ClusterStatus(ProcessHandle.current().pid(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), options.shutdownTimeoutMs(),
                seen.count().asked(), seen.count().routed(), seen.count().failure(),
                seen.listeners().stream().map(l -> new ClusterStatus.Listener(l.name(), l.dispatch(), l.liveWorkers()))
                        .toList(), workers,
                new ClusterStatus.Outcome(seen.reload().state(), seen.reload().why(), 0),
                new ClusterStatus.Outcome(upgrade.state(), upgrade.why(), upgrade.master()),
                control == null ? 0 : control.refused());
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
        if (successor != null) {
            successor.abort();
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
