package sticky.agent.master.listen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import sticky.agent.master.listen.AcceptGate.State;

/** Master dispatch's accept-thread state: what pause, resume and close leave, and who waits for what. */
class AcceptGateTest {
    @Test
    void pauseAndCloseSayWhetherTheThreadIsInAcceptAndCloseIsOnce() throws Exception {
        AcceptGate gate = new AcceptGate(false);
        assertTrue(gate.awaitOpen(() -> true, () -> {}));
        assertTrue(gate.accepting());
        assertEquals(State.ACCEPTING, gate.pause(), "in accept4: to be woken");
        assertFalse(gate.accepting(), "paused: a connection of its own wake-up port is the wake-up");
        assertTrue(AcceptGate.inAccept(gate.close()), "pausing, maybe still in accept4: to be woken");
        assertEquals(State.CLOSING, gate.close(), "asked before: the caller closes nothing twice");
        assertEquals(State.CLOSING, gate.pause(), "a closed gate stays closed");
        assertFalse(gate.awaitOpen(() -> true, () -> {}), "the thread ends");
    }

    @Test
    void aPausedGateOpensOnlyAtResumeAndAnOpenOneWaitsForRoom() throws Exception {
        AcceptGate gate = new AcceptGate(true);
        AtomicInteger waitedForRoom = new AtomicInteger();
        CompletableFuture<Boolean> opened = CompletableFuture.supplyAsync(() -> awaitOpen(gate, () -> true,
                waitedForRoom));
        awaitWaiting(gate, opened);
        gate.changed();
        awaitWaiting(gate, opened);
        assertFalse(opened.isDone(), "room alone does not open a paused gate");
        assertEquals(0, waitedForRoom.get(), "a paused gate is not waiting for room");
        gate.resume();
        assertTrue(opened.get(10, TimeUnit.SECONDS));

        AtomicBoolean room = new AtomicBoolean(false);
        gate.pause();
        gate.resume();
        CompletableFuture<Boolean> roomMade = CompletableFuture.supplyAsync(() -> awaitOpen(gate, room::get,
                waitedForRoom));
        awaitWaiting(gate, roomMade);
        assertTrue(waitedForRoom.get() >= 1, "told that it waits for room");
        room.set(true);
        gate.changed();
        assertTrue(roomMade.get(10, TimeUnit.SECONDS));
    }

    private static boolean awaitOpen(AcceptGate gate, BooleanSupplier canAccept, AtomicInteger waited) {
        try {
            return gate.awaitOpen(canAccept, waited::incrementAndGet);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Until a thread waits in awaitOpen, or waiter is done. */
    private static void awaitWaiting(AcceptGate gate, CompletableFuture<Boolean> waiter) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!waiter.isDone() && System.nanoTime() < deadline && !waitingOn(gate)) {
            Thread.onSpinWait();
        }
        assertTrue(waitingOn(gate), "a thread waits on the gate");
    }

    private static boolean waitingOn(AcceptGate gate) {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getState() == Thread.State.WAITING
                && Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getMethodName().equals("awaitOpen")));
    }
}
