package sticky.agent.master;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import sticky.agent.Logs;
import sticky.agent.master.Listener.Route;

/**
 * Starts the workers and keeps every slot filled. A worker that fails is
 * started again in the same slot (same id), at once if it had run a while,
 * after a doubling back-off if it keeps dying young; when every slot keeps
 * failing at start, the application cannot run and the cluster gives up. A
 * worker that exits with 0 has finished and is not restarted. A rolling
 * restart replaces the workers one at a time, switching a slot only once its
 * new worker has bound every listener the old one had.
 */
final class Supervisor {
    private static final Logger log = Logs.get();
    static final long YOUNG_MS = 10_000;
    static final long FIRST_BACKOFF_MS = 100;
    static final long MAX_BACKOFF_MS = 30_000;
    static final int GIVE_UP_AFTER = 3;
    static final long REPLACEMENT_START_MS = 120_000;

    private final class Slot {
        final int id;
        Process current;
        long startedAt;
        int youngFailures;
        long backoffMs;
        boolean finished;
        int generation;
        int restarts;

        Slot(int id) {
            this.id = id;
        }
    }

    private final Function<Slot, ProcessBuilder> builders;
    private final Listeners listeners;
    private final long shutdownTimeoutMs;
    private final Slot[] slots;
    private final Map<Long, Process> byPid = new ConcurrentHashMap<>();
    private final Map<Long, Integer> readyWorkers = new ConcurrentHashMap<>();
    private final CompletableFuture<Integer> end = new CompletableFuture<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sticky-supervisor");
        t.setDaemon(true);
        return t;
    });
    private boolean stopping;
    private boolean reloading;

    /** command: the worker command for a worker id and whether it is an odd generation (see WorkerCommand). */
    Supervisor(int workers, java.util.function.BiFunction<Integer, Boolean, ProcessBuilder> command,
            Listeners listeners, long shutdownTimeoutMs) {
        this.builders = slot -> command.apply(slot.id, slot.generation % 2 == 1);
        this.listeners = listeners;
        this.shutdownTimeoutMs = shutdownTimeoutMs;
        this.slots = new Slot[workers];
        for (int i = 0; i < workers; i++) {
            slots[i] = new Slot(i + 1);
        }
    }

    synchronized void startAll() throws IOException {
        for (Slot slot : slots) {
            slot.current = spawn(slot, "started");
        }
    }

    /** Blocks until the cluster ends by itself: 0 when every worker finished with 0, 1 when it gave up. */
    int awaitEnd() throws InterruptedException {
        try {
            return end.get();
        } catch (java.util.concurrent.ExecutionException e) {
            return 1;
        }
    }

    private Process spawn(Slot slot, String what) throws IOException {
        Process process = builders.apply(slot).start();
        slot.startedAt = System.nanoTime();
        slot.generation++;
        byPid.put(process.pid(), process);
        log.info("worker {} {}, pid {}", slot.id, what, process.pid());
        process.onExit().thenRun(() -> timer.execute(() -> exited(slot, process)));
        return process;
    }

    private synchronized void exited(Slot slot, Process process) {
        byPid.remove(process.pid());
        readyWorkers.remove(process.pid());
        if (stopping || process != slot.current) {
            return; // being stopped, or replaced by a rolling restart
        }
        int code = process.exitValue();
        if (code == 0) {
            slot.finished = true;
            slot.current = null;
            log.info("worker {} (pid {}) finished with exit code 0; not restarted", slot.id, process.pid());
            listeners.closeEmpty();
            if (java.util.Arrays.stream(slots).allMatch(s -> s.finished)) {
                log.info("every worker has finished; master stops");
                end.complete(0);
            }
            return;
        }
        long livedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - slot.startedAt);
        if (livedMs < YOUNG_MS) {
            slot.youngFailures++;
            slot.backoffMs = Math.min(Math.max(slot.backoffMs * 2, FIRST_BACKOFF_MS), MAX_BACKOFF_MS);
        } else {
            slot.youngFailures = 0;
            slot.backoffMs = 0;
        }
        if (java.util.Arrays.stream(slots).allMatch(s -> s.finished || s.youngFailures >= GIVE_UP_AFTER)) {
            log.error("worker {} (pid {}) exited with code {}; every worker keeps failing at start, giving up",
                    slot.id, process.pid(), code);
            end.complete(1);
            return;
        }
        log.warn("worker {} (pid {}) exited with code {} after {} ms; restarting it in {} ms",
                slot.id, process.pid(), code, livedMs, slot.backoffMs);
        timer.schedule(() -> restart(slot), slot.backoffMs, TimeUnit.MILLISECONDS);
    }

    private synchronized void restart(Slot slot) {
        if (stopping) {
            return;
        }
        try {
            slot.current = spawn(slot, "restarted");
            slot.restarts++;
        } catch (IOException e) {
            log.error("worker {} could not be restarted: {}; trying again in {} ms", slot.id, e.getMessage(),
                    MAX_BACKOFF_MS);
            timer.schedule(() -> restart(slot), MAX_BACKOFF_MS, TimeUnit.MILLISECONDS);
        }
    }

    /** One slot as the operator sees it; pid -1 when it has no process. */
    record SlotView(int id, long pid, String state, long uptimeMs, int restarts) {}

    synchronized List<SlotView> view() {
        List<SlotView> view = new java.util.ArrayList<>();
        for (Slot slot : slots) {
            Process p = slot.current;
            boolean alive = p != null && p.isAlive();
            String state = slot.finished ? "finished"
                    : !alive ? "restarting" : readyWorkers.containsKey(p.pid()) ? "running" : "starting";
            view.add(new SlotView(slot.id, alive ? p.pid() : -1, state,
                    alive ? TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - slot.startedAt) : 0, slot.restarts));
        }
        return view;
    }

    /** A worker said hello: its agent is installed and it is about to run the application. */
    void ready(int worker, long pid) {
        readyWorkers.put(pid, worker);
        log.debug("worker {} ready, pid {}", worker, pid);
    }

    /** A worker bound a server socket: its route goes live if it is its slot's current worker. */
    synchronized void bound(Route route) {
        Slot slot = slots[route.worker - 1];
        if (slot.current != null && slot.current.pid() == route.pid) {
            route.listener.goLive(route);
        }
    }

    /** Whether worker pid has exited, or does within timeoutMs. */
    boolean exits(long pid, long timeoutMs) {
        Process process = byPid.get(pid);
        try {
            return process == null || process.waitFor(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * SIGHUP: replaces every worker, one at a time, without refusing or losing
     * a connection. Returns at once, with null, or why no restart started.
     */
    String reload() {
        synchronized (this) {
            if (stopping || reloading) {
                String why = "reload ignored: " + (stopping ? "the cluster is stopping" : "a rolling restart is running");
                log.warn(why);
                return why;
            }
            reloading = true;
        }
        Thread thread = new Thread(() -> {
            try {
                log.info("rolling restart of {} workers", slots.length);
                for (Slot slot : slots) {
                    if (!replace(slot)) {
                        log.error("rolling restart stopped; the remaining workers keep running");
                        return;
                    }
                }
                log.info("rolling restart done");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                synchronized (this) {
                    reloading = false;
                }
            }
        }, "sticky-reload");
        thread.setDaemon(true);
        thread.start();
        return null;
    }

    private boolean replace(Slot slot) throws InterruptedException {
        Process old;
        Process next;
        synchronized (this) {
            if (stopping || slot.finished || slot.current == null) {
                return !stopping;
            }
            old = slot.current;
            try {
                next = spawn(slot, "starting as a replacement");
            } catch (IOException e) {
                log.error("worker {}: its replacement could not start: {}", slot.id, e.getMessage());
                return false;
            }
        }
        long oldPid = old.pid();
        long nextPid = next.pid();
        // Ready, and bound everywhere the old one is bound: then it can take over the slot.
        boolean up = listeners.await(() -> !next.isAlive()
                || (readyWorkers.containsKey(nextPid) && listeners.covers(nextPid, oldPid)), REPLACEMENT_START_MS);
        if (!up || !next.isAlive()) {
            log.error("worker {}: replacement pid {} {}; pid {} keeps serving", slot.id, nextPid,
                    next.isAlive() ? "did not bind its listeners in " + REPLACEMENT_START_MS + " ms"
                            : "exited with code " + next.exitValue(), oldPid);
            next.destroyForcibly();
            return false;
        }
        synchronized (this) {
            if (stopping) {
                return false;
            }
            slot.current = next;
            slot.restarts++;
            slot.youngFailures = 0;
            slot.backoffMs = 0;
            listeners.promote(slot.id, nextPid);
        }
        log.info("worker {}: pid {} took over from pid {}; stopping the old one", slot.id, nextPid, oldPid);
        stopGracefully(List.of(old));
        return true;
    }

    /** SIGTERM to each, then up to the shutdown timeout for all of them, then SIGKILL. True if all stopped in time. */
    private boolean stopGracefully(List<Process> processes) throws InterruptedException {
        processes.forEach(Process::destroy);
        boolean clean = true;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(shutdownTimeoutMs);
        for (Process p : processes) {
            if (!p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                log.warn("pid {} did not stop within {} ms; killed", p.pid(), shutdownTimeoutMs);
                p.destroyForcibly();
                clean = false;
            }
        }
        return clean;
    }

    /** Stops every worker: returns whether all stopped within the shutdown timeout. */
    boolean stop() {
        synchronized (this) {
            stopping = true;
        }
        timer.shutdownNow();
        // The port closes first; the workers' server sockets stay open while their shutdown hooks
        // run, so an application blocked in accept sees no error from sticky, as without it.
        listeners.stopAccepting();
        try {
            return stopGracefully(List.copyOf(byPid.values()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            byPid.values().forEach(Process::destroyForcibly);
            return false;
        } finally {
            listeners.closeAll();
        }
    }
}
