package sticky.agent.master.lifecycle;

import org.slf4j.Logger;
import sticky.agent.jvm.Logs;
import sticky.agent.master.listen.Routing;

/**
 * A slot's serving process replaced without refusing a connection: the new
 * process starts beside it, takes the slot over once it has said hello and
 * bound every listener the old one has (the slot's new clients go to it from
 * then on), and the old one leaves ({@link Departure}). A replacement that
 * exits, or has not bound within {@link #START_MS}, is killed and the old
 * process keeps serving. If the old process dies first, the replacement
 * takes the slot at once. A part of {@link Lifecycle}, on the master's loop.
 */
final class Replacement {
    private static final Logger log = Logs.get();
    static final long START_MS = 120_000;

    /** Told when a replacement is over: its old process has left or died (failure null), or it failed. */
    interface Ended {
        void ended(Slot slot, Reason reason, String failure);
    }

    private final Table table;
    private final Routing routing;
    private final Timers timers;
    private final Departure departure;
    /** The lifecycle's rule for a process that now serves its slot. */
    private final java.util.function.Consumer<Slot> serving;
    private final Ended ended;

    Replacement(Table table, Routing routing, Timers timers, Departure departure,
            java.util.function.Consumer<Slot> serving, Ended ended) {
        this.table = table;
        this.routing = routing;
        this.timers = timers;
        this.departure = departure;
        this.serving = serving;
        this.ended = ended;
    }

    /** Starts slot's replacement for reason, with its deadline to bind; false if no process could start. */
    boolean start(Slot slot, Reason reason) {
        Worker next = table.spawn(slot, "starting as a replacement"
                + (reason == Reason.RELOAD ? "" : " (" + reason.label() + ")"));
        if (next == null) {
            return false;
        }
        next.reason = reason;
        slot.replacement = next;
        timers.after(START_MS, () -> {
            if (slot.replacement == next) {
                failed(slot, "did not bind its listeners in " + START_MS + " ms");
            }
        });
        return true;
    }

    /** Said hello, and bound everywhere the serving process is bound: then the replacement takes over. */
    void takeOverIfUp(Slot slot) {
        Worker next = slot.replacement;
        if (next != null && next.phase == Phase.RUNNING && routing.covers(next.pid(), slot.current.pid())) {
            Worker old = slot.current;
            takeOver(slot);
            log.info("worker {}: pid {} took over from pid {}; stopping the old one", slot.id(), next.pid(), old.pid());
            old.leftFor = next.reason;
            departure.start(old);
        }
    }

    /** The serving process died during its replacement: the replacement takes the slot now. */
    void oldDied(Slot slot, Worker old, int code) {
        Worker next = slot.replacement;
        log.warn("worker {} (pid {}) exited with code {} during its replacement; pid {} takes its slot", slot.id(),
                old.pid(), code, next.pid());
        takeOver(slot);
        ended.ended(slot, next.reason, null); // its old process is gone: nothing to wait for
    }

    /** The replacement exited, or did not bind in time: killed; the serving process goes on. */
    void failed(Slot slot, String why) {
        Worker next = slot.replacement;
        slot.replacement = null;
        next.process.kill();
        String failure = "worker " + slot.id() + ": replacement pid " + next.pid() + " " + why + "; pid "
                + slot.current.pid() + " keeps serving";
        log.error(failure);
        ended.ended(slot, next.reason, failure);
    }

    private void takeOver(Slot slot) {
        Worker next = slot.replacement;
        slot.replacement = null;
        slot.serveWith(next);
        slot.restarts++;
        slot.replaced(next.reason);
        slot.backOff(false);
        routing.promote(slot.index, next.pid());
        serving.accept(slot);
    }
}
