package sticky.agent.master.lifecycle;

/** Events later, on the master's loop, and the loop's clock in milliseconds. */
public interface Timers {
    void after(long delayMs, Runnable event);

    long now();
}
