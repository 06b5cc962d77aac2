package sticky.agent.master.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import sticky.agent.master.listen.Route;
import sticky.agent.master.listen.Routing;

/**
 * The lifecycle's rules, driven event by event as the master's loop would,
 * with processes, timers and listeners that only record what is asked of them.
 */
class LifecycleTest {
    private static final long SHUTDOWN_MS = 30_000;

    private final FakeSpawner spawner = new FakeSpawner();
    private final FakeTimers timers = new FakeTimers();
    private final FakeRouting routing = new FakeRouting();
    /** Processes that still have requests in progress. */
    private final Set<Long> busy = new HashSet<>();

    private Lifecycle cluster(int workers) {
        Lifecycle lifecycle = new Lifecycle(workers, spawner, routing, busy::contains, timers, SHUTDOWN_MS);
        lifecycle.start();
        return lifecycle;
    }

    /** The worker of pid says hello and binds one listener. */
    private void serves(Lifecycle lifecycle, FakeProcess p) {
        lifecycle.hello(p.pid);
        lifecycle.bound(new Route(null, p.slot, p.pid, -1, -1));
    }

    private static void crash(Lifecycle lifecycle, FakeProcess p, int code) {
        p.alive = false;
        lifecycle.exited(p.pid, code);
    }

    @Test
    void aWorkerThatKeepsFailingAtStartBacksOffDoublingUntilTheClusterGivesUp() {
        Lifecycle lifecycle = cluster(1);
        crash(lifecycle, spawner.last(0), 1);
        assertEquals(List.of(100L), timers.delays());
        timers.advance(100);
        crash(lifecycle, spawner.last(0), 1);
        timers.advance(200);
        assertEquals(3, spawner.started.size());
        assertFalse(lifecycle.end().isDone());
        crash(lifecycle, spawner.last(0), 1);
        assertEquals(1, lifecycle.end().getNow(-1));
    }

    @Test
    void workersKilledWhileServingAreRestartedAndNeverMakeTheMasterGiveUp() {
        Lifecycle lifecycle = cluster(2);
        serves(lifecycle, spawner.last(1));
        for (int i = 0; i < 6; i++) {
            FakeProcess victim = spawner.last(0);
            serves(lifecycle, victim);
            timers.advance(1500);
            crash(lifecycle, victim, 137);
            timers.advance(Respawn.MAX_BACKOFF_MS);
        }
        assertFalse(lifecycle.end().isDone(), "every worker had served: the master must not give up");
        assertEquals(1 + 6, spawner.startedIn(0));
        assertEquals(6, lifecycle.view().get(0).restarts());
    }

    @Test
    void anUpgradeWaitsForNoReplacementHoldsOffReloadsAndEndsTheClusterWithoutTellingSystemdItStops() {
        List<String> told = new ArrayList<>();
        LifecycleListener notifier = new LifecycleListener() {
            @Override
            public void stopping() {
                told.add("stopping");
            }
        };
        Lifecycle lifecycle = new Lifecycle(2, spawner, routing, busy::contains, timers, SHUTDOWN_MS,
                new Lifecycle.Parts(Recycling.off(timers), Watchdog.off(timers), List.of(notifier)));
        lifecycle.start();
        serves(lifecycle, spawner.last(0));
        serves(lifecycle, spawner.last(1));
        assertNull(lifecycle.reload(null));
        assertEquals("a worker is being replaced", lifecycle.upgradeStarts());
        serves(lifecycle, spawner.last(0));
        crash(lifecycle, spawner.started.get(0), 143);
        serves(lifecycle, spawner.last(1));
        crash(lifecycle, spawner.started.get(1), 143);
        assertNull(lifecycle.upgradeStarts(), "the rolling restart is over");
        assertEquals("an upgrade is under way", lifecycle.upgradeStarts());
        assertEquals("reload ignored: an upgrade is under way", lifecycle.reload(null));
        lifecycle.upgradeEnded();
        assertNull(lifecycle.upgradeStarts(), "a failed upgrade may be tried again");
        List<Long> pids = lifecycle.pids();
        assertEquals(List.of(spawner.last(0).pid, spawner.last(1).pid), pids.stream().sorted().toList());
        lifecycle.handedOver();
        assertEquals(0, lifecycle.end().getNow(-1));
        lifecycle.stop();
        assertEquals(List.of(), told, "the service goes on under the new master");
        timers.advance(100);
        assertTrue(spawner.last(0).terminated && spawner.last(1).terminated, "its workers leave as at a stop");
    }

    @Test
    void aNewMasterTakesOverOnlyOnceEachWorkerHasBoundWhatTheOldOneServesAndRefusesReloadsUntilThen() {
        List<String> told = new ArrayList<>();
        LifecycleListener predecessor = new LifecycleListener() {
            @Override
            public void allServing() {
                told.add("allServing");
            }
        };
        Lifecycle lifecycle = new Lifecycle(2, spawner, routing, busy::contains, timers, SHUTDOWN_MS,
                new Lifecycle.Parts(Recycling.off(timers), Watchdog.off(timers), List.of(predecessor)));
        lifecycle.joins();
        lifecycle.start();
        FakeProcess a = spawner.last(0);
        FakeProcess b = spawner.last(1);
        routing.unboundAdopted.add(a.pid); // a binds its main port late
        serves(lifecycle, a);
        serves(lifecycle, b);
        assertEquals(List.of(), told, "every worker serves, but a has not bound every listener handed over");
        assertEquals("reload ignored: " + Busy.JOINING.why, lifecycle.reload(null));
        assertEquals("scale refused: " + Busy.JOINING.why, lifecycle.scale(3, null));
        routing.unboundAdopted.remove(a.pid);
        lifecycle.bound(new Route(null, a.slot, a.pid, -1, -1)); // its second listener
        assertEquals(List.of("allServing"), told);
        lifecycle.tookOver();
        assertNull(lifecycle.reload(null), "once it took over, a reload goes ahead");
    }

    /** A cluster with max-memory and max-lifetime, a gauge that reads pss, and no random delay or jitter. */
    private Lifecycle recycled(int workers, long maxMemory, long maxLifetime, Map<Long, Long> pss) {
        java.util.Random none = new java.util.Random() {
            @Override
            public double nextDouble() {
                return 0;
            }
        };
        Lifecycle lifecycle = new Lifecycle(workers, spawner, routing, busy::contains, timers, SHUTDOWN_MS,
                new Lifecycle.Parts(new Recycling(maxMemory, maxLifetime, pid -> pss.getOrDefault(pid, 50L << 20), timers,
                        none), Watchdog.off(timers), List.of()));
        lifecycle.start();
        return lifecycle;
    }

    @Test
    void aWorkerPastMaxLifetimeIsReplacedAloneOneSlotAtATimeAndItsSuccessorLivesItsOwnLifetime() {
        Lifecycle lifecycle = recycled(2, 0, 60_000, Map.of());
        FakeProcess a = spawner.last(0);
        FakeProcess b = spawner.last(1);
        serves(lifecycle, a);
        timers.advance(1000);
        serves(lifecycle, b);
        timers.advance(58_999);
        assertEquals(1, spawner.startedIn(0), "not before its lifetime");
        timers.advance(1);
        assertEquals(2, spawner.startedIn(0), "a replacement, as in a rolling restart of the slot");
        FakeProcess next = spawner.last(0);
        timers.advance(1000);
        assertEquals(1, spawner.startedIn(1), "b is due too, but one slot is replaced at a time");
        serves(lifecycle, next);
        assertTrue(a.terminated, "the old one leaves once its successor serves");
        assertEquals(Reason.LIFETIME, lifecycle.view().get(0).lastReplaced());
        assertEquals(1, lifecycle.view().get(0).replacements().get(Reason.LIFETIME));
        assertNull(lifecycle.view().get(1).lastReplaced());
        crash(lifecycle, a, 143);
        timers.advance(Recycling.RETRY_MS);
        assertEquals(2, spawner.startedIn(1), "then b's turn");
        serves(lifecycle, spawner.last(1));
        crash(lifecycle, b, 143);
        timers.advance(60_000 - Recycling.RETRY_MS - 1); // to 1 ms before its successor is 60 s in service
        assertEquals(2, spawner.startedIn(0));
        timers.advance(1);
        assertEquals(3, spawner.startedIn(0), "the successor's own lifetime, counted from when it served");
    }

    @Test
    void aWorkerAboveMaxMemoryAtTwoLooksIsReplacedAndNoOtherIs() {
        Map<Long, Long> pss = new HashMap<>();
        Lifecycle lifecycle = recycled(2, 100L << 20, 0, pss);
        FakeProcess a = spawner.last(0);
        FakeProcess b = spawner.last(1);
        serves(lifecycle, a);
        serves(lifecycle, b);
        pss.put(a.pid, 200L << 20);
        timers.advance(Recycling.MEMORY_CHECK_MS);
        assertEquals(1, spawner.startedIn(0), "one look above is not enough");
        timers.advance(Recycling.MEMORY_CHECK_MS);
        assertEquals(2, spawner.startedIn(0), "two looks in a row: replaced (after the random delay, 0 here)");
        assertEquals(1, spawner.startedIn(1));
        serves(lifecycle, spawner.last(0));
        assertTrue(a.terminated);
        assertEquals(Reason.MEMORY, lifecycle.view().get(0).lastReplaced());
        timers.advance(5 * Recycling.MEMORY_CHECK_MS);
        assertEquals(2, spawner.startedIn(0), "its successor is under the limit");
        assertEquals(1, spawner.startedIn(1), "b was never over");
    }

    @Test
    void aReloadAskedForDuringASlotsReplacementStartsOnceItsOldWorkerHasLeft() {
        Lifecycle lifecycle = recycled(1, 0, 60_000, Map.of());
        FakeProcess a = spawner.last(0);
        serves(lifecycle, a);
        timers.advance(60_000);
        FakeProcess next = spawner.last(0);
        assertNull(lifecycle.reload(null), "accepted, for later");
        assertEquals(2, spawner.startedIn(0), "not at once");
        serves(lifecycle, next);
        crash(lifecycle, a, 143);
        assertEquals(3, spawner.startedIn(0), "the rolling restart, now");
        serves(lifecycle, spawner.last(0));
        assertEquals(Reason.RELOAD, lifecycle.view().get(0).lastReplaced());
        assertEquals(Map.of(Reason.CRASH, 0, Reason.HANG, 0, Reason.MEMORY, 0, Reason.LIFETIME, 1, Reason.RELOAD, 1),
                lifecycle.view().get(0).replacements());
    }

    /** What the watchdog sees: connections taken per slot, workers with connections waiting, workers under a debugger. */
    private final Map<Integer, Long> taken = new HashMap<>();
    private final Map<Long, Long> waiting = new HashMap<>();
    private final Set<Long> debugged = new HashSet<>();
    private final Set<Long> sending = new HashSet<>();

    private Lifecycle watched(int workers, long limitMs) {
        Watchdog watchdog = new Watchdog(limitMs, new Watchdog.Progress() {
            public long taken(int slot) {
                return taken.getOrDefault(slot, 0L);
            }

            public long waiting(long pid) {
                return waiting.getOrDefault(pid, 0L);
            }

            public boolean sending(long pid, long withinMs) {
                return sending.contains(pid);
            }

            public boolean debugged(long pid) {
                return debugged.contains(pid);
            }
        }, timers);
        Lifecycle lifecycle = new Lifecycle(workers, spawner, routing, busy::contains, timers, SHUTDOWN_MS,
                new Lifecycle.Parts(Recycling.off(timers), watchdog, List.of()));
        lifecycle.start();
        return lifecycle;
    }

    @Test
    void aWorkerWhoseClientsWaitWhileItTakesNoneIsDumpedKilledAndRestartedAndNoOtherIs() {
        Lifecycle lifecycle = watched(2, 5000);
        FakeProcess a = spawner.last(0);
        FakeProcess b = spawner.last(1);
        serves(lifecycle, a);
        serves(lifecycle, b);
        timers.advance(Respawn.YOUNG_MS); // they have served a while: nothing waited meanwhile
        taken.put(0, 1L); // a served a connection, then stopped taking any
        waiting.put(a.pid, 1L);
        waiting.put(b.pid, 1L); // b has connections waiting too, but takes them
        for (int i = 0; i < 6; i++) {
            timers.advance(Watchdog.CHECK_MS);
            taken.merge(1, 1L, Long::sum);
        }
        assertFalse(a.quit, "not before its clients have waited the watchdog's time");
        timers.advance(Watchdog.CHECK_MS);
        assertTrue(a.quit, "SIGQUIT first: its thread dump");
        assertFalse(a.killed);
        assertFalse(b.quit, "b takes its connections: not hung");
        timers.advance(Watchdog.THREAD_DUMP_MS);
        assertTrue(a.killed, "then SIGKILL");
        crash(lifecycle, a, 137);
        timers.advance(0);
        assertEquals(Reason.HANG, lifecycle.view().get(0).lastReplaced());
        assertEquals(2, spawner.startedIn(0), "restarted at once: it had lived long");
        assertEquals(1, spawner.startedIn(1));
    }

    @Test
    void aLeavingWorkerWhoseQueueDoesNotShrinkIsHungAndKilledBeforeTheShutdownTimeoutAndOneWhoseQueueShrinksIsNot() {
        Lifecycle lifecycle = watched(2, 5000);
        FakeProcess a = spawner.last(0);
        FakeProcess b = spawner.last(1);
        serves(lifecycle, a);
        serves(lifecycle, b);
        timers.advance(Respawn.YOUNG_MS);
        busy.add(a.pid);
        busy.add(b.pid);
        lifecycle.handedOver(); // an upgrade: both leave, as at a stop
        lifecycle.stop();
        waiting.put(a.pid, 3L); // three connections queued for a, which takes none
        waiting.put(b.pid, 40L);
        for (int i = 0; i < 6; i++) {
            timers.advance(Watchdog.CHECK_MS);
            waiting.merge(b.pid, -5L, Long::sum); // b takes what waits, slowly
        }
        assertTrue(a.quit, "a's queue did not shrink for the watchdog's time: hung, its thread dump first");
        assertFalse(b.quit, "b's does");
        timers.advance(Watchdog.THREAD_DUMP_MS);
        assertTrue(a.killed, "then SIGKILL, well before the shutdown timeout");
        assertFalse(a.terminated, "never SIGTERM: it was not waited for");
        assertTrue(SHUTDOWN_MS > 5000 + 7 * Watchdog.CHECK_MS + Watchdog.THREAD_DUMP_MS);
    }

    @Test
    void theWatchdogLeavesAloneAWorkerThatNeverTookOneOrHasNothingWaitingOrIsUnderADebuggerOrStillSends() {
        Lifecycle lifecycle = watched(4, 5000);
        FakeProcess starting = spawner.last(0);
        FakeProcess idle = spawner.last(1);
        FakeProcess debuggee = spawner.last(2);
        FakeProcess busyOne = spawner.last(3);
        serves(lifecycle, starting);
        serves(lifecycle, idle);
        serves(lifecycle, debuggee);
        serves(lifecycle, busyOne);
        taken.put(3, 5L);
        waiting.put(busyOne.pid, 1L);
        sending.add(busyOne.pid); // takes none, but answers on the connections it has (a connection limit)
        waiting.put(starting.pid, 1L); // waiting, but it never took a connection: still starting
        taken.put(1, 5L); // took some, nothing waits for it
        taken.put(2, 5L);
        waiting.put(debuggee.pid, 1L);
        debugged.add(debuggee.pid); // stopped at a breakpoint, say
        timers.advance(60 * Watchdog.CHECK_MS);
        assertFalse(starting.quit || idle.quit || debuggee.quit || busyOne.quit);
        debugged.clear();
        timers.advance(4 * Watchdog.CHECK_MS);
        assertFalse(debuggee.quit, "once let go, it gets the whole time again");
        timers.advance(2 * Watchdog.CHECK_MS);
        assertTrue(debuggee.quit, "then it is hung");
    }

    @Test
    void aCrashIsAReplacementReason() {
        Lifecycle lifecycle = cluster(1);
        FakeProcess a = spawner.last(0);
        serves(lifecycle, a);
        timers.advance(Respawn.YOUNG_MS);
        crash(lifecycle, a, 137);
        assertEquals(Reason.CRASH, lifecycle.view().get(0).lastReplaced());
        assertEquals(1, lifecycle.view().get(0).replacements().get(Reason.CRASH));
    }

    @Test
    void aRollingRestartReplacesSlotBySlotAndSwitchesASlotBeforeStoppingItsOldWorker() {
        Lifecycle lifecycle = cluster(2);
        FakeProcess old0 = spawner.last(0);
        FakeProcess old1 = spawner.last(1);
        serves(lifecycle, old0);
        serves(lifecycle, old1);
        assertNull(lifecycle.reload(null));
        assertTrue(lifecycle.reload(null).contains("a rolling restart is running"));
        FakeProcess new0 = spawner.last(0);
        assertNotEquals(old0, new0);
        assertEquals(1, spawner.startedIn(1), "one slot at a time");
        lifecycle.hello(new0.pid);
        assertFalse(old0.terminated, "not before the replacement has bound what the old one had");
        lifecycle.bound(new Route(null, 0, new0.pid, -1, -1));
        assertEquals(new0.pid, routing.live.get(0), "the slot's clients go to the replacement");
        assertTrue(routing.calls.indexOf("promote 0 " + new0.pid) >= 0);
        assertTrue(old0.terminated, "then the old one gets SIGTERM");
        assertEquals(1, spawner.startedIn(1), "the next slot waits until the old worker is gone");
        crash(lifecycle, old0, 143);
        FakeProcess new1 = spawner.last(1);
        assertNotEquals(old1, new1);
        serves(lifecycle, new1);
        crash(lifecycle, old1, 143);
        assertNull(lifecycle.reload(null), "the rolling restart is over: another may start");
        assertEquals(List.of(1, 1), List.of(lifecycle.view().get(0).restarts(), lifecycle.view().get(1).restarts()));
    }

    @Test
    void aRollingRestartDuringACrashBackOffLeavesOneProcessPerSlot() {
        Lifecycle lifecycle = cluster(2);
        serves(lifecycle, spawner.last(0));
        serves(lifecycle, spawner.last(1));
        for (int i = 0; i < 5; i++) { // dying young: the back-off grows to 1.6 s
            crash(lifecycle, spawner.last(0), 137);
            timers.advance(timers.delays().get(timers.delays().size() - 1));
        }
        crash(lifecycle, spawner.last(0), 137);
        assertNull(lifecycle.reload(null));
        timers.advance(Respawn.MAX_BACKOFF_MS);
        assertEquals(1, spawner.aliveIn(0), "the back-off restart and nothing else fills the restarting slot");
        assertEquals(2, spawner.aliveIn(1), "slot 2's replacement starts beside its worker");
    }

    @Test
    void aWorkerThatDiesDuringItsReplacementLeavesTheSlotToTheReplacement() {
        Lifecycle lifecycle = cluster(2);
        FakeProcess old0 = spawner.last(0);
        serves(lifecycle, old0);
        serves(lifecycle, spawner.last(1));
        lifecycle.reload(null);
        FakeProcess new0 = spawner.last(0);
        crash(lifecycle, old0, 137);
        timers.advance(Respawn.MAX_BACKOFF_MS);
        assertEquals(1, spawner.aliveIn(0), "no back-off restart beside the replacement");
        assertEquals(new0.pid, lifecycle.view().get(0).pid());
        assertEquals(2, spawner.aliveIn(1), "the rolling restart goes on with the next slot");
        serves(lifecycle, new0);
        assertEquals(new0.pid, routing.live.get(0));
    }

    @Test
    void aFailedReplacementLeavesTheGenerationSoThatTheNextOneGetsOtherPorts() {
        Lifecycle lifecycle = cluster(1);
        FakeProcess serving = spawner.last(0);
        serves(lifecycle, serving);
        lifecycle.reload(null);
        FakeProcess failed = spawner.last(0);
        crash(lifecycle, failed, 1);
        assertFalse(serving.terminated, "a failed replacement leaves the old worker serving");
        assertNull(lifecycle.reload(null), "the failed rolling restart is over");
        FakeProcess next = spawner.last(0);
        assertEquals(failed.generation, next.generation);
        assertNotEquals(serving.generation % 2, next.generation % 2, "the serving worker holds the other ports");
    }

    @Test
    void aReplacementThatNeverBindsIsKilledAndTheOldWorkerKeepsServing() {
        Lifecycle lifecycle = cluster(1);
        FakeProcess serving = spawner.last(0);
        serves(lifecycle, serving);
        lifecycle.reload(null);
        FakeProcess late = spawner.last(0);
        lifecycle.hello(late.pid);
        timers.advance(Replacement.START_MS);
        assertTrue(late.killed);
        assertFalse(serving.terminated);
        assertEquals(serving.pid, lifecycle.view().get(0).pid());
    }

    @Test
    void stopClosesTheListenersFirstAndTheRoutesOnlyOnceEveryWorkerIsGone() {
        Lifecycle lifecycle = cluster(2);
        FakeProcess a = spawner.last(0);
        FakeProcess b = spawner.last(1);
        serves(lifecycle, a);
        serves(lifecycle, b);
        CompletableFuture<Boolean> stopped = lifecycle.stop();
        assertEquals("stopAccepting", routing.calls.get(routing.calls.size() - 1));
        assertTrue(a.terminated && b.terminated);
        crash(lifecycle, a, 143);
        assertFalse(routing.calls.contains("closeAll"), "a worker still runs its shutdown hooks");
        timers.advance(SHUTDOWN_MS);
        assertTrue(b.killed, "killed after the shutdown timeout");
        crash(lifecycle, b, 137);
        assertEquals("closeAll", routing.calls.get(routing.calls.size() - 1));
        assertEquals(false, stopped.getNow(null));
        timers.advance(Respawn.MAX_BACKOFF_MS);
        assertEquals(2, spawner.started.size(), "nothing restarts during a stop");
    }

    @Test
    void aReplacedWorkerFinishesItsRequestsBeforeItGetsSigterm() {
        Lifecycle lifecycle = cluster(1);
        FakeProcess old = spawner.last(0);
        serves(lifecycle, old);
        busy.add(old.pid);
        lifecycle.reload(null);
        serves(lifecycle, spawner.last(0));
        assertEquals(spawner.last(0).pid, routing.live.get(0), "new connections go to the replacement at once");
        timers.advance(5 * Departure.DRAIN_CHECK_MS);
        assertFalse(old.terminated, "not while a request is in progress");
        busy.remove(old.pid);
        timers.advance(Departure.DRAIN_CHECK_MS);
        assertTrue(old.terminated);
        assertFalse(old.killed);
    }

    @Test
    void aStopWaitsForRequestsInProgressUpToTheShutdownTimeoutThenSigtermThenSigkill() {
        Lifecycle lifecycle = cluster(2);
        FakeProcess idle = spawner.last(0);
        FakeProcess working = spawner.last(1);
        serves(lifecycle, idle);
        serves(lifecycle, working);
        busy.add(working.pid);
        lifecycle.stop();
        assertTrue(idle.terminated, "an idle worker gets SIGTERM at once");
        timers.advance(SHUTDOWN_MS - Departure.DRAIN_CHECK_MS);
        assertFalse(working.terminated);
        timers.advance(2 * Departure.DRAIN_CHECK_MS);
        assertTrue(working.terminated, "the shutdown timeout bounds the wait");
        assertFalse(working.killed);
        timers.advance(SHUTDOWN_MS);
        assertTrue(working.killed, "and SIGKILL follows as long again after SIGTERM");
    }

    @Test
    void aClosedLifelineIsAClosedSocketUnlessItsWorkerDies() {
        Lifecycle lifecycle = cluster(1);
        FakeProcess p = spawner.last(0);
        serves(lifecycle, p);
        Route closed = new Route(null, 0, p.pid, -1, -1);
        lifecycle.lifelineEnded(closed);
        assertEquals("retire 0 " + p.pid, routing.calls.get(routing.calls.size() - 1), "its clients move at once");
        timers.advance(Lifecycle.DEATH_WAIT_MS);
        assertEquals("release " + p.pid + " died=false", routing.calls.get(routing.calls.size() - 1));
        lifecycle.lifelineEnded(new Route(null, 0, p.pid, -1, -1));
        crash(lifecycle, p, 137);
        assertTrue(routing.calls.contains("release " + p.pid + " died=true"));
    }

    @Test
    void aNewSlotIsRoutedToOnlyOnceItsWorkerServesAndScalingReturnsThen() {
        Lifecycle lifecycle = cluster(2);
        serves(lifecycle, spawner.last(0));
        serves(lifecycle, spawner.last(1));
        CompletableFuture<String> done = new CompletableFuture<>();
        assertNull(lifecycle.scale(3, done));
        FakeProcess added = spawner.last(2);
        assertEquals(1, added.generation);
        assertEquals(-1, routing.routed, "not routed before its worker serves");
        assertEquals(new Count(3, 2, null), lifecycle.count());
        lifecycle.hello(added.pid);
        assertEquals(-1, routing.routed, "said hello, bound nothing yet");
        lifecycle.bound(new Route(null, 2, added.pid, -1, -1));
        assertEquals(3, routing.routed, "serves: clients are routed over three slots");
        assertEquals(added.pid, routing.live.get(2));
        assertNull(done.getNow("not yet"));
        assertEquals("serving", lifecycle.view().get(2).state());
        assertEquals(new Count(3, 3, null), lifecycle.count());
    }

    @Test
    void shrinkingRoutesFirstThenTheLastSlotsWorkerLeavesAndTheSlotGoesWithIt() {
        Lifecycle lifecycle = cluster(3);
        for (int slot = 0; slot < 3; slot++) {
            serves(lifecycle, spawner.last(slot));
        }
        FakeProcess last = spawner.last(2);
        busy.add(last.pid);
        CompletableFuture<String> done = new CompletableFuture<>();
        assertNull(lifecycle.scale(2, done));
        assertEquals(2, routing.routed, "its clients go back where they were at once");
        assertFalse(last.terminated, "its requests in progress finish first");
        assertEquals("leaving", lifecycle.view().get(2).state());
        busy.remove(last.pid);
        timers.advance(Departure.DRAIN_CHECK_MS);
        assertTrue(last.terminated);
        assertFalse(done.isDone(), "not before its process is gone");
        crash(lifecycle, last, 143);
        assertTrue(routing.calls.contains("removeSlot 2"));
        assertNull(done.getNow("not yet"));
        assertEquals(2, lifecycle.view().size());
        timers.advance(Respawn.MAX_BACKOFF_MS);
        assertEquals(3, spawner.started.size(), "a removed slot is not restarted");
    }

    @Test
    void aNewWorkerThatKeepsFailingAtStartEndsTheScalingAndTheCountStays() {
        Lifecycle lifecycle = cluster(1);
        serves(lifecycle, spawner.last(0));
        CompletableFuture<String> done = new CompletableFuture<>();
        assertNull(lifecycle.scale(2, done));
        for (int attempt = 0; attempt < Scaling.ATTEMPTS; attempt++) {
            crash(lifecycle, spawner.last(1), 3);
            timers.advance(1000);
        }
        assertEquals(Scaling.ATTEMPTS, spawner.startedIn(1));
        assertTrue(done.getNow("").startsWith("scaling stopped at 1 workers: worker 2 (pid "), done.getNow(""));
        assertTrue(routing.calls.contains("removeSlot 1"));
        assertEquals(1, lifecycle.view().size());
        assertEquals(1, lifecycle.count().asked());
        assertFalse(lifecycle.end().isDone(), "the serving worker goes on");
    }

    @Test
    void scalingWaitsForNoRollingRestartAndNoneStartsDuringIt() {
        Lifecycle lifecycle = cluster(2);
        serves(lifecycle, spawner.last(0));
        serves(lifecycle, spawner.last(1));
        assertNull(lifecycle.reload(null));
        assertEquals("scale refused: a rolling restart is running; scale once it is done", lifecycle.scale(3, null));
        serves(lifecycle, spawner.last(0));
        crash(lifecycle, spawner.started.get(0), 143);
        serves(lifecycle, spawner.last(1));
        crash(lifecycle, spawner.started.get(1), 143);
        assertNull(lifecycle.scale(3, null), "the rolling restart is over");
        assertEquals("reload ignored: scaling is under way", lifecycle.reload(null));
        assertEquals("scaling is under way", lifecycle.upgradeStarts());
        assertEquals("scale refused: a count of workers is from 1 to 256", lifecycle.scale(0, null));
    }

    @Test
    void aSlotRemovedWhileItRestartsAfterACrashGoesAtOnceAndIsNotRestarted() {
        Lifecycle lifecycle = cluster(2);
        serves(lifecycle, spawner.last(0));
        serves(lifecycle, spawner.last(1));
        crash(lifecycle, spawner.last(1), 137); // dead young: its restart waits out a back-off
        assertEquals("restarting", lifecycle.view().get(1).state());
        CompletableFuture<String> done = new CompletableFuture<>();
        assertNull(lifecycle.scale(1, done));
        assertNull(done.getNow("not yet"));
        assertEquals(1, lifecycle.view().size());
        assertTrue(routing.calls.contains("removeSlot 1"));
        timers.advance(Respawn.MAX_BACKOFF_MS);
        assertEquals(2, spawner.started.size(), "nothing restarts in the slot that went");
    }

    @Test
    void theClusterEndsWithZeroWhenEveryWorkerFinishes() {
        Lifecycle lifecycle = cluster(2);
        crash(lifecycle, spawner.last(0), 0);
        assertTrue(routing.calls.contains("closeEmpty"));
        assertEquals("finished", lifecycle.view().get(0).state());
        assertFalse(lifecycle.end().isDone());
        crash(lifecycle, spawner.last(1), 0);
        assertEquals(0, lifecycle.end().getNow(-1));
        assertEquals(2, spawner.started.size(), "a finished worker is not restarted");
    }

    private static final class FakeProcess implements Spawner.WorkerProcess {
        final long pid;
        final int slot;
        final int generation;
        boolean alive = true;
        boolean terminated;
        boolean killed;
        boolean quit;

        FakeProcess(long pid, int slot, int generation) {
            this.pid = pid;
            this.slot = slot;
            this.generation = generation;
        }

        @Override
        public long pid() {
            return pid;
        }

        @Override
        public void terminate() {
            terminated = true;
        }

        @Override
        public void kill() {
            killed = true;
            alive = false;
        }

        @Override
        public void quit() {
            quit = true;
        }
    }

    private static final class FakeSpawner implements Spawner {
        final List<FakeProcess> started = new ArrayList<>();

        @Override
        public Spawner.WorkerProcess spawn(int slot, int generation) {
            FakeProcess p = new FakeProcess(1000 + started.size(), slot, generation);
            started.add(p);
            return p;
        }

        FakeProcess last(int slot) {
            FakeProcess found = null;
            for (FakeProcess p : started) {
                found = p.slot == slot ? p : found;
            }
            if (found == null) {
                throw new AssertionError("no process started in slot " + slot);
            }
            return found;
        }

        long startedIn(int slot) {
            return started.stream().filter(p -> p.slot == slot).count();
        }

        long aliveIn(int slot) {
            return started.stream().filter(p -> p.slot == slot && p.alive).count();
        }
    }

    private static final class FakeTimers implements Timers {
        private record Due(long at, long order, Runnable event) {}

        private final PriorityQueue<Due> queue = new PriorityQueue<>(
                (x, y) -> x.at != y.at ? Long.compare(x.at, y.at) : Long.compare(x.order, y.order));
        private final List<Long> delays = new ArrayList<>();
        private long now = 1_000_000;
        private long order;

        @Override
        public void after(long delayMs, Runnable event) {
            queue.add(new Due(now + delayMs, order++, event));
            delays.add(delayMs);
        }

        /** Every delay asked for, in order. */
        List<Long> delays() {
            return delays;
        }

        @Override
        public long now() {
            return now;
        }

        /** Moves the clock on, running every event that falls due, in order. */
        void advance(long ms) {
            long until = now + ms;
            while (!queue.isEmpty() && queue.peek().at <= until) {
                Due due = queue.poll();
                now = due.at;
                due.event.run();
            }
            now = until;
        }
    }

    private static final class FakeRouting implements Routing {
        final List<String> calls = new ArrayList<>();
        int routed = -1;
        final Map<Integer, Long> live = new HashMap<>();
        final Set<Long> answered = new HashSet<>();
        /** Workers that have not bound every listener an old master handed over yet. */
        final Set<Long> unboundAdopted = new HashSet<>();

        @Override
        public boolean bindsAdopted(long pid) {
            return !unboundAdopted.contains(pid);
        }

        @Override
        public void answered(Route route) {
            answered.add(route.pid());
        }

        @Override
        public void goLive(Route route) {
            live.put(route.slot(), route.pid());
            calls.add("goLive " + route.slot() + " " + route.pid());
        }

        @Override
        public void promote(int slot, long pid) {
            if (answered.contains(pid)) {
                live.put(slot, pid);
            }
            calls.add("promote " + slot + " " + pid);
        }

        @Override
        public boolean covers(long next, long previous) {
            return answered.contains(next) || !answered.contains(previous);
        }

        @Override
        public boolean queued(long pid) {
            return false;
        }

        @Override
        public void routeSlots(int count) {
            routed = count;
            calls.add("routeSlots " + count);
        }

        @Override
        public void removeSlot(int slot) {
            calls.add("removeSlot " + slot);
        }

        @Override
        public void retire(Route route) {
            live.remove(route.slot(), route.pid());
            calls.add("retire " + route.slot() + " " + route.pid());
        }

        @Override
        public void release(Route route, boolean workerDied) {
            calls.add("release " + route.pid() + " died=" + workerDied);
        }

        @Override
        public void closeEmpty() {
            calls.add("closeEmpty");
        }

        @Override
        public void stopAccepting() {
            calls.add("stopAccepting");
        }

        @Override
        public void closeAll() {
            calls.add("closeAll");
        }
    }
}
