package sticky.agent.master.lifecycle;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import sticky.agent.jvm.Logs;

/**
 * The master's event thread: control connections, process exits, signals,
 * admin commands and timers post their events here, and the events run one
 * at a time, in order, on this one thread ({@code sticky-master}). That is
 * what lets {@link Lifecycle} and the listeners keep their state without a
 * lock. An event must not block.
 */
public final class MasterLoop implements Timers {
    private static final Logger log = Logs.get();
    /** How long a thread waits for an answer from the loop; the loop never blocks, so this is generous. */
    private static final long ASK_TIMEOUT_S = 30;

    private final ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "sticky-master");
        t.setDaemon(true);
        return t;
    });

    public MasterLoop() {
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    /** Runs event on the loop, later. */
    public void post(Runnable event) {
        executor.execute(() -> run(event));
    }

    @Override
    public void after(long delayMs, Runnable event) {
        executor.schedule(() -> run(event), delayMs, TimeUnit.MILLISECONDS);
    }

    @Override
    public long now() {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime());
    }

    /** Runs question on the loop and waits for its answer; what it throws is thrown here. */
    public <T> T ask(Callable<T> question) throws Exception {
        Future<T> answer = executor.submit(question);
        try {
            return answer.get(ASK_TIMEOUT_S, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        } catch (TimeoutException e) {
            answer.cancel(false);
            throw new IllegalStateException("the master's loop did not answer in " + ASK_TIMEOUT_S + " s", e);
        }
    }

    public void shutdown() {
        executor.shutdownNow();
    }

    /** An event that fails is logged; the loop goes on with the next. */
    private static void run(Runnable event) {
        try {
            event.run();
        } catch (RuntimeException e) {
            log.error("master event failed", e);
        }
    }
}
