package sticky.agent.master.lifecycle;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import sticky.agent.jvm.Logs;
import sticky.agent.master.listen.Routing;

/**
 * scale (the command, SIGTTIN and SIGTTOU, JMX): a count of workers to
 * reach, one slot at a time, as einhorn reconciles a target with its
 * children. Growing, a slot is added at the end and its worker started; its
 * listeners' sockets are made as it binds, unrouted, and once it serves (it
 * said hello and bound every listener a serving worker has) clients are
 * routed over one more slot: about 1/(N + 1) of them move to it, none between
 * the others ({@code ClientHash}). Shrinking, clients are routed over one
 * fewer slot first, so that the last slot's go back where they were before
 * it existed; then its worker leaves as a replaced one does (its requests
 * finish, then SIGTERM), and once its processes are gone the slot goes. A
 * new worker that fails at start {@link #ATTEMPTS} times, or does not serve
 * within {@link #START_MS}, ends the growing there: the count stays, and the
 * ones who asked are told why. A part of {@link Lifecycle}, on the master's
 * loop.
 */
final class Scaling {
    private static final Logger log = Logs.get();
    static final int ATTEMPTS = 3;
    static final long START_MS = 120_000;

    private record Waiter(int count, CompletableFuture<String> done) {}

    private final Table table;
    private final Routing routing;
    private final Timers timers;
    private final Departure departure;
    private final List<LifecycleListener> listeners;
    /** The lifecycle's rule for a process that serves its slot from now on. */
    private final Consumer<Slot> serving;
    private final List<Waiter> waiters = new ArrayList<>();
    /** The slots clients are routed over. */
    private int routed;
    private int asked;
    /** The slot being added, or removed, or null. */
    private Slot growing;
    private Slot shrinking;
    private int attempts;
    /** Why the last scaling stopped short of its count, or null. */
    private String failure;

    Scaling(Table table, Routing routing, Timers timers, Departure departure, List<LifecycleListener> listeners,
            int slots, Consumer<Slot> serving) {
        this.table = table;
        this.routing = routing;
        this.timers = timers;
        this.departure = departure;
        this.listeners = listeners;
        this.serving = serving;
        this.routed = slots;
        this.asked = slots;
    }

    int routed() {
        return routed;
    }

    int asked() {
        return asked;
    }

    String failure() {
        return failure;
    }

    /** A step is under way, or the count asked for is not reached yet. */
    boolean busy() {
        return growing != null || shrinking != null || asked != routed;
    }

    boolean isGrowing(Slot slot) {
        return slot == growing;
    }

    boolean isShrinking(Slot slot) {
        return slot == shrinking;
    }

    /** The count to reach from now on; done (or null) is told once the cluster serves with it, or why not. */
    void ask(int count, CompletableFuture<String> done) {
        if (count != asked) {
            log.info("scaling from {} to {} workers", routed, count);
            asked = count;
            failure = null;
            tellWaiters(w -> w.count != count, "the count asked for is now " + count);
        }
        if (done != null) {
            waiters.add(new Waiter(count, done));
        }
        next();
    }

    /** The cluster stops: no slot is added or removed any more. */
    void cancel(String why) {
        tellWaiters(w -> true, why);
    }

    private void next() {
        if (growing != null || shrinking != null) {
            return;
        }
        if (routed < asked) {
            grow();
        } else if (routed > asked) {
            shrink();
        } else {
            tellWaiters(w -> w.count == routed, null);
        }
    }

    private void grow() {
        growing = table.add();
        attempts = 0;
        start(growing);
    }

    private void start(Slot slot) {
        attempts++;
        Worker w = table.spawn(slot, "started");
        if (w == null) {
            abandon(slot, "worker " + slot.id() + " could not be started");
            return;
        }
        slot.serveWith(w);
        timers.after(START_MS, () -> {
            if (growing == slot && slot.current == w && w.phase != Phase.SERVING) {
                log.error("worker {} (pid {}) did not serve within {} ms; killed", slot.id(), w.pid(), START_MS);
                w.process.kill();
            }
        });
    }

    /** The new slot's worker said hello, or bound: once it has bound what a serving worker has, clients go to it too. */
    void check(Slot slot) {
        Worker w = slot.current;
        if (slot == growing && w != null && w.phase == Phase.RUNNING && covers(w)) {
            growing = null;
            routed++;
            log.info("worker {} (pid {}) serves: clients are routed over {} workers", slot.id(), w.pid(), routed);
            routing.routeSlots(routed);
            serving.accept(slot);
            listeners.forEach(l -> l.scaled(routed));
            next();
        }
    }

    /** Whether w has bound every listener a serving worker has; false while nobody serves to compare with. */
    private boolean covers(Worker w) {
        for (Slot s : table.slots.subList(0, routed)) {
            if (s.current != null && s.current.phase == Phase.SERVING) {
                return routing.covers(w.pid(), s.current.pid());
            }
        }
        return false;
    }

    /** Any worker began to serve: a new slot waiting for one to compare its binds with may go on. */
    void recheck() {
        if (growing != null) {
            check(growing);
        }
    }

    /** The new slot's worker exited before it served: started again, or, past the attempts, the growing ends. */
    void exitedBeforeServing(Slot slot, Worker w, int code) {
        slot.current = null;
        String why = "worker " + slot.id() + " (pid " + w.pid() + ") exited with code " + code + " before it served";
        if (attempts >= ATTEMPTS) {
            abandon(slot, why + ", " + attempts + " times");
            return;
        }
        long backoff = slot.backOff(true);
        log.warn("{}; starting it again in {} ms", why, backoff);
        timers.after(backoff, () -> {
            if (growing == slot) {
                start(slot);
            }
        });
    }

    private void abandon(Slot slot, String why) {
        log.error("scaling to {} workers stopped at {}: {}", asked, routed, why);
        growing = null;
        asked = routed;
        failure = why;
        table.removeLast();
        routing.removeSlot(slot.index);
        tellWaiters(w -> true, "scaling stopped at " + routed + " workers: " + why);
    }

    private void shrink() {
        shrinking = table.slot(routed - 1);
        routed--;
        log.info("clients are routed over {} workers; worker {} leaves", routed, shrinking.id());
        routing.routeSlots(routed);
        listeners.forEach(l -> l.scaled(routed));
        int leaving = shrinking.index;
        table.processes().stream().filter(w -> w.slot == leaving && w.phase != Phase.LEAVING).forEach(departure::start);
        gone(shrinking);
    }

    /** A process of the slot being removed ended: once none is left, the slot goes. */
    void gone(Slot slot) {
        if (slot == shrinking && !table.hasProcessIn(slot)) {
            shrinking = null;
            table.removeLast();
            routing.removeSlot(slot.index);
            next();
        }
    }

    private void tellWaiters(java.util.function.Predicate<Waiter> which, String why) {
        List<Waiter> told = waiters.stream().filter(which).toList();
        waiters.removeAll(told);
        told.forEach(w -> w.done.complete(why));
    }
}
