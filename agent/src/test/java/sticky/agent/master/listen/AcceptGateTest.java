package sticky.agent.master.listen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        Waiter opened = new Waiter(gate, () -> true, waitedForRoom);
        opened.awaitWaiting();
        gate.changed();
        opened.awaitWaiting();
        assertFalse(opened.result.isDone(), "room alone does not open a paused gate");
        assertEquals(0, waitedForRoom.get(), "a paused gate is not waiting for room");
        gate.resume();
        assertTrue(opened.result.get(10, TimeUnit.SECONDS));

        AtomicBoolean room = new AtomicBoolean(false);
        gate.pause();
        gate.resume();
        Waiter roomMade = new Waiter(gate, room::get, waitedForRoom);
        roomMade.awaitWaiting();
        assertTrue(waitedForRoom.get() >= 1, "told that it waits for room");
        room.set(true);
        gate.changed();
        assertTrue(roomMade.result.get(10, TimeUnit.SECONDS));
    }

    /** A thread of its own in awaitOpen, as master dispatch's accept thread. */
    private static final class Waiter {
        final CompletableFuture<Boolean> result = new CompletableFuture<>();
        final Thread thread;

        Waiter(AcceptGate gate, BooleanSupplier canAccept, AtomicInteger waited) {
            thread = new Thread(() -> {
                try {
                    result.complete(gate.awaitOpen(canAccept, waited::incrementAndGet));
                } catch (InterruptedException e) {
                    result.completeExceptionally(e);
                }
            });
            thread.setDaemon(true);
            thread.start();
        }

        /** Until the thread waits on the gate's monitor (or has returned). */
        void awaitWaiting() {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!result.isDone() && thread.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertEquals(Thread.State.WAITING, thread.getState(), "the thread waits on the gate");
        }
    }
}
