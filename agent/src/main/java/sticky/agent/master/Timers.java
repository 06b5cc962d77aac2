package sticky.agent.master;

/** Events later, on the master's loop, and the loop's clock in milliseconds. */
interface Timers {
    void after(long delayMs, Runnable event);

    long now();
}
