package sticky.agent.master.lifecycle;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import sticky.agent.jvm.Logs;
import sticky.agent.master.listen.Route;
import sticky.agent.master.listen.Routing;
import sticky.agent.options.Options;

/**
 * The one owner of the master's state: the slots and worker processes
 * ({@link Table}), which process serves each slot, and the sequences that
 * start, replace and stop them. Each public method is an event and runs on
 * the master's loop ({@link MasterLoop}), as in unicorn's master loop:
 * nothing else touches the table, so nothing is locked, and each rule is a
 * short method over it. Its parts keep their own state and ask it, or each
 * other, to start or end a process: {@link Respawn} (crashes),
 * {@link Replacement} (a new process for a serving one), {@link RollingRestart},
 * {@link Scaling} (the count of slots), {@link Recycling} (max-memory,
 * max-lifetime), {@link Watchdog} (hangs), {@link Departure} (a process
 * that leaves) and {@link AllServing} (the listeners told when every slot serves). Slots are 0-based; ids
 * (slot + 1) appear only in logs and status.
 */
public final class Lifecycle {
    private static final Logger log = Logs.get();
    /** How long a closed lifeline waits to learn whether its worker died, before it counts as a closed socket. */
    static final long DEATH_WAIT_MS = 1000;

    /** The lifecycle's optional parts: max-memory and max-lifetime, the watchdog, who is told of its states. */
    public record Parts(Recycling recycling, Watchdog watchdog, List<LifecycleListener> listeners) {
        public static Parts none(Timers timers) {
            return new Parts(Recycling.off(timers), Watchdog.off(timers), List.of());
        }
    }

    private final Table table;
    private final Routing routing;
    private final Timers timers;
    private final List<LifecycleListener> listeners;
    private final Departure departure;
    private final Respawn respawn;
    private final Replacement replacement;
    private final RollingRestart rollingRestart;
    private final Scaling scaling;
    private final Recycling recycling;
    private final Watchdog watchdog;
    private final AllServing allServing;
    private final CompletableFuture<Integer> end = new CompletableFuture<>();
    private final CompletableFuture<Boolean> stopped = new CompletableFuture<>();
    private boolean stopping;
    private int killsBeforeStop;
    /** A new master is starting to take this one's place: no worker is replaced meanwhile. */
    private boolean upgrading;
    /** A new master took this one's place: it is the service now; this one's workers leave and it exits. */
    private boolean handedOver;
    /** This master was started by an upgrade and has not taken over yet: the old one serves. */
    private boolean joining;

    public Lifecycle(int slots, Spawner spawner, Routing routing, Drain drain, Timers timers, long shutdownTimeoutMs) {
        this(slots, spawner, routing, drain, timers, shutdownTimeoutMs, Parts.none(timers));
    }

    public Lifecycle(int slots, Spawner spawner, Routing routing, Drain drain, Timers timers, long shutdownTimeoutMs,
            Parts parts) {
        this.table = new Table(slots, spawner, timers);
        this.routing = routing;
        this.timers = timers;
        this.listeners = List.copyOf(parts.listeners());
        this.recycling = parts.recycling();
        this.watchdog = parts.watchdog();
        this.departure = new Departure(drain, timers, shutdownTimeoutMs, table::running);
        this.respawn = new Respawn(table, timers, listeners, () -> stopping, () -> end.complete(1));
        this.replacement = new Replacement(table, routing, timers, departure, this::serving, this::replacementEnded);
        this.rollingRestart = new RollingRestart(listeners, table.slots, s -> replacement.start(s, Reason.RELOAD));
        this.scaling = new Scaling(table, routing, timers, departure, listeners, slots, this::serving);
        this.allServing = new AllServing(table, routing, listeners);
    }

    /** Completes when the cluster ends by itself: 0 when every worker finished with 0, 1 when it gave up. */
    public CompletableFuture<Integer> end() {
        return end;
    }

    public void start() {
        recycling.start(table.slots, this::replaceAlone);
        watchdog.start(table, listeners);
        for (Slot slot : table.slots) {
            if (!slot.serveWith(table.spawn(slot, "started"))) {
                end.complete(1); // the JVM cannot start a copy of itself: nothing would ever serve
                return;
            }
        }
    }

    /** Whether pid is a process this master started for slot (and has not reaped): a worker it may talk to. */
    public boolean isWorker(long pid, int slot) {
        Worker w = table.get(pid);
        return w != null && w.slot == slot;
    }

    /** A worker said hello: its agent is installed and the application is starting. */
    public void hello(long pid) {
        Worker w = table.get(pid);
        if (w != null && w.phase == Phase.STARTING) {
            w.phase = Phase.RUNNING;
            log.debug("worker {} ready, pid {}", w.id(), pid);
            Slot slot = table.slotOf(w);
            if (scaling.isGrowing(slot)) {
                scaling.check(slot);
            } else {
                replacement.takeOverIfUp(slot);
            }
        }
    }

    /** A worker's bind is made and its answer goes out next: the route goes live if it is its slot's serving process. */
    public void bound(Route route) {
        routing.answered(route);
        Worker w = table.get(route.pid());
        if (w == null) {
            return;
        }
        Slot slot = table.slotOf(w);
        if (w == slot.current) {
            routing.goLive(route); // for a new slot's worker, live but not routed until it serves
            if (scaling.isGrowing(slot)) {
                scaling.check(slot);
            } else {
                serving(slot);
            }
        } else {
            replacement.takeOverIfUp(slot);
        }
    }

    /** A route's lifeline ended: its slot's clients go elsewhere now; is it a closed socket or a dead worker? */
    public void lifelineEnded(Route route) {
        routing.retire(route);
        Worker w = table.get(route.pid());
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
    public void exited(long pid, int code) {
        Worker w = table.remove(pid);
        if (w == null) {
            return;
        }
        w.closedRoutes.forEach(r -> routing.release(r, true));
        w.closedRoutes.clear();
        Slot slot = table.slotOf(w);
        if (stopping) {
            if (table.isEmpty()) {
                finishStop();
            }
        } else if (scaling.isShrinking(slot)) {
            if (w == slot.current) {
                slot.current = null;
            }
            scaling.gone(slot);
        } else if (w == slot.current && scaling.isGrowing(slot)) {
            scaling.exitedBeforeServing(slot, w, code);
        } else if (w == slot.replacement) {
            replacement.failed(slot, "exited with code " + code);
        } else if (w == slot.current) {
            slot.current = null;
            if (slot.replacement != null) {
                replacement.oldDied(slot, w, code);
            } else if (code == 0) {
                finished(slot, w);
            } else {
                respawn.died(slot, w, code);
            }
        } else if (w.leftFor != null) {
            replacementEnded(slot, w.leftFor, null); // the old process of a replacement is gone
        }
    }

    private void finished(Slot slot, Worker w) {
        slot.finished = true;
        log.info("worker {} (pid {}) finished with exit code 0; not restarted", slot.id(), w.pid());
        routing.closeEmpty();
        if (table.slots.stream().allMatch(s -> s.finished)) {
            log.info("every worker has finished; master stops");
            end.complete(0);
        }
    }

    /** The slot's process serves: its failures at start are behind it, and its lifetime runs. */
    private void serving(Slot slot) {
        Worker w = slot.current;
        if (!w.served()) {
            w.servedAt = timers.now();
            recycling.serving(slot, w);
            watchdog.serving(slot, w);
        }
        if (w.phase == Phase.STARTING || w.phase == Phase.RUNNING) {
            w.phase = Phase.SERVING;
        }
        slot.startFailures = 0;
        allServing.check(scaling.routed());
        scaling.recheck();
    }

    /** A replacement is over (see {@link Replacement.Ended}): the part that asked for it goes on. */
    private void replacementEnded(Slot slot, Reason reason, String failure) {
        if (failure != null) {
            recycling.replacementFailed(slot, slot.current, reason);
        }
        rollingRestart.replacementEnded(slot, reason, failure);
    }

    /**
     * scale: the count of workers to reach (1 to 256), one slot at a time;
     * done, unless it was refused, is told once the cluster serves with it
     * (null) or why not. Null, or why it was refused: during a stop, an
     * upgrade, a rolling restart or a replacement.
     */
    public String scale(int count, CompletableFuture<String> done) {
        Busy busy = busy();
        String why = count < 1 || count > Options.MAX_WORKERS ? "a count of workers is from 1 to " + Options.MAX_WORKERS
                : busy == Busy.NONE || busy == Busy.SCALING ? null
                : busy == Busy.RELOADING || busy == Busy.REPLACING ? busy.why + "; scale once it is done" : busy.why;
        if (why != null) {
            log.warn("scale to {} refused: {}", count, why);
            return "scale refused: " + why;
        }
        scaling.ask(count, done);
        return null;
    }

    public Count count() {
        return new Count(scaling.asked(), scaling.routed(), scaling.failure());
    }

    private Busy busy() {
        return stopping ? Busy.STOPPING : joining ? Busy.JOINING : upgrading ? Busy.UPGRADING
                : rollingRestart.pending() ? Busy.RELOADING
                : table.replacing() ? Busy.REPLACING : scaling.busy() ? Busy.SCALING : Busy.NONE;
    }

    /**
     * SIGHUP: replaces every worker, one at a time, without refusing a
     * connection. Null, or why not; done (or null), unless the reload was
     * refused, is told when the rolling restart ends: null when it went
     * through, or why it stopped.
     */
    public String reload(CompletableFuture<String> done) {
        Busy busy = busy();
        if (busy != Busy.NONE && busy != Busy.REPLACING) {
            log.warn("reload ignored: {}", busy.why);
            return "reload ignored: " + busy.why;
        }
        rollingRestart.begin(busy == Busy.REPLACING, done); // after a slot replaced alone, once it is done
        return null;
    }

    /**
     * max-memory, max-lifetime: slot's worker w gets a replacement, as in a
     * rolling restart of that slot alone. False when it cannot now (a reload
     * or another replacement is under way, or no process could start): the
     * caller tries again.
     */
    private boolean replaceAlone(Slot slot, Worker w, Reason reason) {
        if (stopping) {
            return true; // every worker leaves anyway
        }
        return busy() == Busy.NONE && slot.current == w && replacement.start(slot, reason);
    }

    /** The processes health checks go to: each slot's serving one, by slot. */
    public Map<Integer, Long> serving() {
        return table.serving();
    }

    /** health=: slot's process pid did not answer its health check; hung, if it still serves and may be judged. */
    public void unhealthy(int slot, long pid, String why) {
        watchdog.unhealthy(slot, pid, why);
    }

    /**
     * SIGTERM, SIGINT, or the cluster's end: the port closes first; then
     * every worker leaves as a replaced one does (its requests finish, then
     * SIGTERM). The workers' server sockets stay open while their shutdown
     * hooks run (a blocked accept sees no error from sticky, as without it)
     * and close once every process is gone. Completes with whether all
     * stopped in time.
     */
    public CompletableFuture<Boolean> stop() {
        if (!stopping) {
            stopping = true;
            rollingRestart.cancel("the cluster stops");
            scaling.cancel("the cluster stops");
            if (!handedOver) {
                tell(LifecycleListener::stopping); // not after an upgrade: the service goes on, under the new master
            }
            killsBeforeStop = departure.kills();
            routing.stopAccepting();
            table.processes().stream().filter(w -> w.phase != Phase.LEAVING).forEach(departure::start);
            if (table.isEmpty()) {
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
    public String upgradeStarts() {
        Busy busy = busy();
        upgrading = upgrading || busy == Busy.NONE;
        return busy == Busy.RELOADING || busy == Busy.REPLACING ? "a worker is being replaced" : busy.why;
    }

    /** The upgrade failed: this master goes on as before. */
    public void upgradeEnded() {
        upgrading = false;
    }

    /** Each slot's generation: that of its serving process, or its last one's. */
    public List<Integer> generations() {
        return table.slots.stream().map(s -> s.generation).toList();
    }

    /**
     * Upgrade, in the new master, before {@link #start}: its slots go on from
     * the old master's generations, so that each first process has the other
     * JDWP and JMX ports than the one it replaces, which still holds its own.
     */
    public void continueFrom(List<Integer> generations) {
        for (int i = 0; i < table.slots.size() && i < generations.size(); i++) {
            table.slot(i).generation = generations.get(i);
        }
    }

    /** Every process of this master's. */
    public List<Long> pids() {
        return table.processes().stream().map(Worker::pid).toList();
    }

    /** Upgrade, in a new master, before {@link #start}: until {@link #tookOver}, no reload or scale starts. */
    public void joins() {
        joining = true;
    }

    /** Upgrade, in the new master: it serves now, the old one leaves. */
    public void tookOver() {
        joining = false;
    }

    /** The new master serves: this one ends, its workers leaving as at a stop. */
    public void handedOver() {
        handedOver = true;
        end.complete(0);
    }

    private void tell(Consumer<LifecycleListener> event) {
        listeners.forEach(event);
    }

    public List<SlotView> view() {
        return table.view();
    }

    /** The last rolling restart: none, waiting, running, done or stopped, and why it stopped. */
    public ReloadOutcome lastReload() {
        return rollingRestart.outcome();
    }
}
