package sticky.agent.master.listen;

import sticky.agent.unix.Libc;

/**
 * An eventfd that a thread polls beside its sockets, so that other threads
 * can wake it (new work, or its end): for {@link Peeker} and
 * {@link HandoffQueue}. Allocates nothing per wake-up.
 */
final class Wakeup {
    private static final byte[] ONE = {1, 0, 0, 0, 0, 0, 0, 0};

    final int fd = Libc.eventfd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
    private final byte[] counter = new byte[8];

    void signal() {
        Libc.write(fd, ONE, 8);
    }

    /** On the polling thread, once poll reported the wake-up: reads it, so that the next poll waits again. */
    void clear() {
        Libc.read(fd, counter, 8);
    }

    /** Wakes thread, whose loop must have been told to end, waits up to a second for it, and closes the eventfd. */
    void end(Thread thread) {
        signal();
        try {
            thread.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Libc.close(fd);
    }
}
