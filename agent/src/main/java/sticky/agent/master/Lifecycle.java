package sticky.agent.master;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import sticky.agent.Logs;
import sticky.agent.master.listen.Route;
import sticky.agent.master.Slot.Worker;
import sticky.agent.master.listen.Routing;

/**
 * The one owner of the master's state: the slots, the worker processes, which
 * process serves each slot, and the rolling-restart and stop sequences. Each
 * public method is an event and runs on the master's loop ({@link MasterLoop}),
 * as in unicorn's master loop: nothing else touches the table, so nothing is
 * locked, and each rule is a short method over it. Slots are 0-based; ids
 * (slot + 1) appear only in logs and status.
 */
final class Lifecycle {
    private static final Logger log = Logs.get();
    /** A worker that dies sooner than this after its start backs its slot off. */
    static final long YOUNG_MS = 10_000;
    static final long FIRST_BACKOFF_MS = 100;
    static final long MAX_BACKOFF_MS = 30_000;
    /** Failures at start (dead young, before serving) in a row, in every slot, after which the cluster gives up. */
    static final int GIVE_UP_AFTER = 3;
    static final long REPLACEMENT_START_MS = 120_000;
    /** How long a closed lifeline waits to learn whether its worker died, before it counts as a closed socket. */
    static final long DEATH_WAIT_MS = 1000;
    /** How long a hung worker gets to write its thread dump before it is killed. */
    static final long THREAD_DUMP_MS = 2000;

    private final Spawner spawner;
    private final Routing routing;
    private final Timers timers;
    private final Departure departure;
    private final Recycling recycling;
    private final Watchdog watchdog;
    private final Notifier notifier;
    /** Every slot has served once: the service manager has been told it is ready. */
    private boolean announced;
    private final Slot[] slots;
    /** Every process started and not yet reaped, by pid. */
    private final Map<Long, Worker> workers = new HashMap<>();
    private final CompletableFuture<Integer> end = new CompletableFuture<>();
    private final CompletableFuture<Boolean> stopped = new CompletableFuture<>();
    private boolean stopping;
    private int killsBeforeStop;
    private boolean reloading;
    /** A reload asked for while a slot was being replaced alone: it starts once that is done. */
    private boolean reloadWaits;
    /** A new master is starting to take this one's place ({@link Upgrade}): no worker is replaced meanwhile. */
    private boolean upgrading;
    /** A new master took this one's place: it is the service now; this one's workers leave and it exits. */
    private boolean handedOver;

    Lifecycle(int slots, Spawner spawner, Routing routing, Drain drain, Timers timers, long shutdownTimeoutMs) {
        this(slots, spawner, routing, drain, timers, shutdownTimeoutMs, Parts.none(timers));
    }

    /** The lifecycle's optional parts: max-memory and max-lifetime, the watchdog, who is told of its states. */
    record Parts(Recycling recycling, Watchdog watchdog, Notifier notifier) {
        static Parts none(Timers timers) {
            return new Parts(Recycling.off(timers), Watchdog.off(timers), Notifier.NONE);
        }
    }

    Lifecycle(int slots, Spawner spawner, Routing routing, Drain drain, Timers timers, long shutdownTimeoutMs,
            Parts parts) {
        this.spawner = spawner;
        this.recycling = parts.recycling();
        this.watchdog = parts.watchdog();
        this.notifier = parts.notifier();
        this.routing = routing;
        this.timers = timers;
        this.departure = new Departure(drain, timers, shutdownTimeoutMs, w -> workers.get(w.pid()) == w);
        this.slots = new Slot[slots];
        for (int i = 0; i < slots; i++) {
            this.slots[i] = new Slot(i);
        }
    }

    /** Completes when the cluster ends by itself: 0 when every worker finished with 0, 1 when it gave up. */
    CompletableFuture<Integer> end() {
        return end;
    }

    void start() {
        recycling.start(slots, this::replaceAlone);
        watchdog.start(slots, this::hung);
        for (Slot slot : slots) {
            if (!slot.serveWith(spawn(slot, "started"))) {
                end.complete(1); // the JVM cannot start a copy of itself: nothing would ever serve
                return;
            }
        }
    }

    /** A worker said hello: its agent is installed and the application is starting. */
    void hello(long pid) {
        Worker w = workers.get(pid);
        if (w != null) {
            w.ready = true;
            log.debug("worker {} ready, pid {}", w.slot + 1, pid);
            takeOverIfUp(slots[w.slot]);
        }
    }

    /** A worker has the answer to its bind: the route goes live if it is its slot's serving process. */
    void bound(Route route) {
        routing.answered(route);
        Worker w = workers.get(route.pid());
        if (w == null) {
            return;
        }
        Slot slot = slots[w.slot];
        if (w == slot.current) {
            routing.goLive(route);
            serving(slot);
        } else {
            takeOverIfUp(slot);
        }
    }

    /** A route's lifeline ended: its slot's clients go elsewhere now; is it a closed socket or a dead worker? */
    void lifelineEnded(Route route) {
        routing.retire(route);
        Worker w = workers.get(route.pid());
        if (w == null) {
            routing.release(route, true);
            return;
        }
        w.closedRoutes.add(route);
        timers.after(DEATH_WAIT_MS, () -> {
            if (w.closedRoutes.remove(route)) {
                routing.release(route, false); // still alive: the application closed its server socket
            }
        });
    }

    /** A process ended (reaped). */
    void exited(long pid, int code) {
        Worker w = workers.remove(pid);
        if (w == null) {
            return;
        }
        w.closedRoutes.forEach(r -> routing.release(r, true));
        w.closedRoutes.clear();
        Slot slot = slots[w.slot];
        if (stopping) {
            if (workers.isEmpty()) {
                finishStop();
            }
        } else if (w == slot.replacement) {
            replacementFailed(slot, "exited with code " + code);
        } else if (w == slot.current) {
            slot.current = null;
            currentExited(slot, w, code);
        } else if (w.leaving && reloading && "reload".equals(w.leftFor)) {
            replaceFrom(slot.index + 1); // the old process of a rolling restart is gone: on to the next slot
        } else if (w.leaving && reloadWaits && !reloading) {
            reloadWaits = false; // the slot replaced alone is done: now the reload asked for meanwhile
            reload();
        }
    }

    private void currentExited(Slot slot, Worker w, int code) {
        if (slot.replacement != null) {
            log.warn("worker {} (pid {}) exited with code {} during its replacement; pid {} takes its slot",
                    slot.id(), w.pid(), code, slot.replacement.pid());
            takeOver(slot);
            if (reloading) {
                replaceFrom(slot.index + 1); // its old process is gone: nothing to wait for
            } else if (reloadWaits) {
                reloadWaits = false;
                reload();
            }
            return;
        }
        if (code == 0) {
            finished(slot, w);
            return;
        }
        long livedMs = timers.now() - w.startedAt;
        boolean young = livedMs < YOUNG_MS;
        slot.backOff(young);
        slot.replaced(w.hung ? "hang" : "crash");
        if (young && !w.served) {
            slot.startFailures++;
        }
        if (Arrays.stream(slots).allMatch(s -> s.finished || s.startFailures >= GIVE_UP_AFTER)) {
            log.error("worker {} (pid {}) exited with code {}; every worker keeps failing at start, giving up",
                    slot.id(), w.pid(), code);
            notifier.status("every worker keeps failing at start; giving up");
            end.complete(1);
            return;
        }
        log.warn("worker {} (pid {}) exited with code {} after {} ms; restarting it in {} ms", slot.id(), w.pid(),
                code, livedMs, slot.backoffMs);
        notifier.status("worker " + slot.id() + " restarting after exit " + code);
        timers.after(slot.backoffMs, () -> restart(slot, "restarted"));
    }

    private void finished(Slot slot, Worker w) {
        slot.finished = true;
        log.info("worker {} (pid {}) finished with exit code 0; not restarted", slot.id(), w.pid());
        routing.closeEmpty();
        if (Arrays.stream(slots).allMatch(s -> s.finished)) {
            log.info("every worker has finished; master stops");
            end.complete(0);
        }
    }

    /** Starts the slot's serving process, unless it has one (or a replacement that took it) by now. */
    private void restart(Slot slot, String what) {
        if (stopping || slot.current != null || slot.finished) {
            return;
        }
        if (slot.serveWith(spawn(slot, what))) {
            slot.restarts++;
        } else {
            timers.after(MAX_BACKOFF_MS, () -> restart(slot, what));
        }
    }

    /**
     * The next process of slot, one generation on from the serving one's (odd
     * and even generations get different JDWP and JMX ports), or null.
     */
    private Worker spawn(Slot slot, String what) {
        int generation = slot.generation + 1;
        try {
            Worker w = new Worker(spawner.spawn(slot.index, generation), slot.index, generation, timers.now());
            workers.put(w.pid(), w);
            log.info("worker {} {}, pid {}", slot.id(), what, w.pid());
            return w;
        } catch (IOException e) {
            log.error("worker {} could not be {}: {}", slot.id(), what, e.getMessage());
            return null;
        }
    }

    /** The slot's process serves: its failures at start are behind it, and its lifetime runs. */
    private void serving(Slot slot) {
        if (!slot.current.served) {
            recycling.serving(slot, slot.current);
            watchdog.serving(slot, slot.current);
        }
        slot.current.served = true;
        slot.startFailures = 0;
        if (!announced && Arrays.stream(slots).allMatch(s -> s.finished || s.current != null && s.current.served)) {
            announced = true;
            notifier.ready();
        }
    }

    /** SIGHUP: replaces every worker, one at a time, without refusing a connection. Null, or why not. */
    String reload() {
        if (stopping || reloading || upgrading) {
            String why = "reload ignored: " + (stopping ? "the cluster is stopping"
                    : upgrading ? "an upgrade is under way" : "a rolling restart is running");
            log.warn(why);
            return why;
        }
        if (replacing()) {
            reloadWaits = true;
            log.info("rolling restart asked for: it starts once the worker being replaced has left");
            return null;
        }
        reloading = true;
        log.info("rolling restart of {} workers", slots.length);
        notifier.reloading(slots.length);
        replaceFrom(0);
        return null;
    }

    /** Starts the replacement of the first slot from index on that has a serving process. */
    private void replaceFrom(int index) {
        for (int i = index; i < slots.length; i++) {
            Slot slot = slots[i];
            if (slot.finished || slot.current == null) {
                continue; // restarting after a crash: it starts from what is on disk now anyway
            }
            if (!startReplacement(slot, "reload", "starting as a replacement")) {
                stopReload();
            }
            return;
        }
        log.info("rolling restart done");
        reloading = false;
        notifier.ready();
    }

    /**
     * max-memory, max-lifetime: slot's worker w gets a replacement, as in a
     * rolling restart of that slot alone. False when it cannot now (a reload
     * or another replacement is under way, or no process could start): the
     * caller tries again.
     */
    private boolean replaceAlone(Slot slot, Worker w, String reason) {
        if (stopping) {
            return true; // every worker leaves anyway
        }
        if (reloading || upgrading || slot.current != w || replacing()) {
            return false;
        }
        return startReplacement(slot, reason, "starting as a replacement (" + reason + ")");
    }

    /**
     * Starts slot's replacement process, for reason, with its deadline to
     * bind what the serving process has bound; false if it could not start.
     */
    private boolean startReplacement(Slot slot, String reason, String what) {
        Worker next = spawn(slot, what);
        if (next == null) {
            return false;
        }
        next.reason = reason;
        slot.replacement = next;
        timers.after(REPLACEMENT_START_MS, () -> {
            if (slot.replacement == next) {
                replacementFailed(slot, "did not bind its listeners in " + REPLACEMENT_START_MS + " ms");
            }
        });
        return true;
    }

    /**
     * The watchdog found slot's w hung: its thread dump goes to its output
     * (SIGQUIT), then it is killed and restarted as after a crash; its
     * clients go to the next live slot once it is gone.
     */
    private void hung(Slot slot, Worker w, String why) {
        w.hung = true;
        log.error("worker {} (pid {}) is hung: {}; its thread dump follows (SIGQUIT), then it is killed", slot.id(),
                w.pid(), why);
        w.process.quit();
        notifier.status("worker " + slot.id() + " hung; restarting it");
        timers.after(THREAD_DUMP_MS, () -> {
            if (workers.get(w.pid()) == w) {
                w.process.kill();
            }
        });
    }

    /** The processes health checks go to: each slot's serving one, by slot. */
    Map<Integer, Long> serving() {
        Map<Integer, Long> serving = new HashMap<>();
        for (Slot slot : slots) {
            Worker w = slot.current;
            if (w != null && w.served && !w.leaving && !w.hung) {
                serving.put(slot.index, w.pid());
            }
        }
        return serving;
    }

    /** health=: slot's process pid did not answer its health check; hung, if it still serves and may be judged. */
    void unhealthy(int slot, long pid, String why) {
        Worker w = workers.get(pid);
        Slot s = slots[slot];
        if (w != null && w == s.current && w.served && !w.leaving && !w.hung && watchdog.judges(s, w)) {
            hung(s, w, why);
        }
    }

    /** Ready, and bound everywhere the serving process is bound: then the replacement can take over. */
    private void takeOverIfUp(Slot slot) {
        Worker next = slot.replacement;
        if (next != null && next.ready && routing.covers(next.pid(), slot.current.pid())) {
            Worker old = slot.current;
            takeOver(slot);
            log.info("worker {}: pid {} took over from pid {}; stopping the old one", slot.id(), next.pid(), old.pid());
            old.leftFor = next.reason;
            departure.start(old);
        }
    }

    private void takeOver(Slot slot) {
        Worker next = slot.replacement;
        slot.replacement = null;
        slot.serveWith(next);
        slot.restarts++;
        slot.replaced(next.reason);
        slot.backOff(false);
        routing.promote(slot.index, next.pid());
        serving(slot);
    }

    private void replacementFailed(Slot slot, String why) {
        Worker next = slot.replacement;
        slot.replacement = null;
        next.process.kill();
        log.error("worker {}: replacement pid {} {}; pid {} keeps serving", slot.id(), next.pid(), why,
                slot.current.pid());
        if (reloading) {
            stopReload();
        } else {
            recycling.replacementFailed(slot, slot.current, next.reason);
            if (reloadWaits) {
                reloadWaits = false;
                reload();
            }
        }
    }

    private void stopReload() {
        log.error("rolling restart stopped; the remaining workers keep running");
        reloading = false;
        notifier.status("rolling restart stopped; the remaining workers keep running");
        notifier.ready();
    }

    /**
     * SIGTERM, SIGINT, or the cluster's end: the port closes first; then
     * every worker leaves as a replaced one does (its requests finish, then
     * SIGTERM). The workers' server sockets stay open while their shutdown
     * hooks run (a blocked accept sees no error from sticky, as without it)
     * and close once every process is gone. Completes with whether all
     * stopped in time.
     */
    CompletableFuture<Boolean> stop() {
        if (!stopping) {
            stopping = true;
            reloading = false;
            if (!handedOver) {
                notifier.stopping(); // not after an upgrade: the service goes on, under the new master
            }
            killsBeforeStop = departure.kills();
            routing.stopAccepting();
            List<Worker> all = new ArrayList<>(workers.values());
            all.stream().filter(w -> !w.leaving).forEach(departure::start);
            if (workers.isEmpty()) {
                finishStop();
            }
        }
        return stopped;
    }

    private void finishStop() {
        routing.closeAll();
        stopped.complete(departure.kills() == killsBeforeStop);
    }

    /**
     * An upgrade may start: no rolling restart, replacement or stop is under
     * way, nor another upgrade; then none starts until {@link #upgradeEnded}.
     * Null, or why not.
     */
    String upgradeStarts() {
        String why = stopping ? "the cluster is stopping" : upgrading ? "an upgrade is under way"
                : reloading || replacing() ? "a worker is being replaced"
                : null;
        if (why == null) {
            upgrading = true;
        }
        return why;
    }

    /** Whether some slot's replacement is under way (a rolling restart's, or one slot's alone). */
    private boolean replacing() {
        return Arrays.stream(slots).anyMatch(s -> s.replacement != null);
    }

    /** The upgrade failed: this master goes on as before. */
    void upgradeEnded() {
        upgrading = false;
    }

    /** Each slot's generation: that of its serving process, or its last one's. */
    List<Integer> generations() {
        List<Integer> generations = new ArrayList<>();
        for (Slot slot : slots) {
            generations.add(slot.generation);
        }
        return generations;
    }

    /**
     * Upgrade, in the new master, before {@link #start}: its slots go on from
     * the old master's generations, so that each first process has the other
     * JDWP and JMX ports than the one it replaces, which still holds its own.
     */
    void continueFrom(List<Integer> generations) {
        for (int i = 0; i < slots.length && i < generations.size(); i++) {
            slots[i].generation = generations.get(i);
        }
    }

    /** Every process of this master's. */
    List<Long> pids() {
        return new ArrayList<>(workers.keySet());
    }

    /** The new master serves: this one ends, its workers leaving as at a stop. */
    void handedOver() {
        handedOver = true;
        end.complete(0);
    }

    /** One slot as the operator sees it; pid -1 when it has no process. */
    record SlotView(int slot, long pid, String state, long uptimeMs, int restarts, String lastReplaced,
            Map<String, Integer> replacements) {}

    List<SlotView> view() {
        List<SlotView> view = new ArrayList<>();
        for (Slot slot : slots) {
            Worker w = slot.current;
            String state = slot.finished ? "finished" : w == null ? "restarting" : w.ready ? "running" : "starting";
            view.add(new SlotView(slot.index, w == null ? -1 : w.pid(), state,
                    w == null ? 0 : timers.now() - w.startedAt, slot.restarts, slot.lastReplaced,
                    Map.copyOf(slot.replacements)));
        }
        return view;
    }
}
