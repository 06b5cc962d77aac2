package sticky.agent.master.listen;

import com.sun.jna.Memory;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import sticky.agent.jvm.Logs;
import sticky.agent.unix.FdPasser;
import sticky.agent.unix.Libc;

/**
 * Master dispatch's connections that wait for room in a worker's
 * {@link HandoffChannel}: one thread per listener polls those channels and
 * hands them on, in order, as each worker takes what is queued to it. So a
 * slow or stopped worker's clients are neither closed nor moved to another
 * worker. At most {@link #LIMIT} wait per listener (each is a descriptor of
 * the master's); past that, the accept thread waits too ({@link #full}) and
 * new connections wait in the kernel's backlog, as without sticky. A worker
 * that never takes its connections again keeps them waiting: that is for a
 * watchdog to end, not for this queue.
 */
final class HandoffQueue {
    private static final Logger log = Logs.get();
    static final int LIMIT = 4096;
    /** A channel that reports room and takes nothing (a refusal other than EAGAIN) is tried again after this. */
    private static final long STUCK_PAUSE_MS = 50;

    private final Set<HandoffChannel> watched = ConcurrentHashMap.newKeySet();
    private final Runnable roomMade;
    private final Wakeup wake = new Wakeup();
    private final Thread thread;
    private volatile boolean closed;

    /** roomMade: run on this thread after connections went on, for an accept thread that waits. */
    HandoffQueue(String name, Runnable roomMade) {
        this.roomMade = roomMade;
        this.thread = new Thread(this::loop, name);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** A connection was left waiting in channel ({@link HandoffChannel#offer} said WAITING). */
    void waiting(HandoffChannel channel) {
        if (watched.add(channel)) {
            wake.signal();
        }
    }

    /** How many connections wait here in all. */
    int count() {
        int n = 0;
        for (HandoffChannel c : watched) {
            n += c.waiting();
        }
        return n;
    }

    boolean full() {
        return !watched.isEmpty() && count() >= LIMIT;
    }

    private void loop() {
        FdPasser passer = new FdPasser();
        Memory pollfds = new Memory(8L * 64);
        while (!closed) {
            List<HandoffChannel> channels = new ArrayList<>(watched);
            if ((channels.size() + 1) * 8L > pollfds.size()) {
                pollfds.close();
                pollfds = new Memory((channels.size() + 1) * 16L);
            }
            pollfds.setInt(0, wake.fd);
            pollfds.setShort(4, Libc.POLLIN);
            pollfds.setShort(6, (short) 0);
            for (int i = 0; i < channels.size(); i++) {
                pollfds.setInt(8L * (i + 1), channels.get(i).sender());
                pollfds.setShort(8L * (i + 1) + 4, Libc.POLLOUT);
                pollfds.setShort(8L * (i + 1) + 6, (short) 0);
            }
            Libc.poll(pollfds, channels.size() + 1, -1);
            if (pollfds.getShort(6) != 0) {
                wake.clear();
            }
            boolean stuck = false;
            for (int i = 0; i < channels.size(); i++) {
                HandoffChannel c = channels.get(i);
                boolean room = pollfds.getShort(8L * (i + 1) + 6) != 0;
                int sent = room ? c.flush(passer) : 0;
                stuck |= room && sent == 0 && c.waiting() > 0;
                watched.remove(c);
                if (c.waiting() > 0) {
                    watched.add(c); // after the remove: an offer in between is never left unwatched
                }
            }
            roomMade.run();
            if (stuck) {
                pause();
            }
        }
        pollfds.close();
    }

    private static void pause() {
        try {
            Thread.sleep(STUCK_PAUSE_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops the thread; what still waits stays in its channels, which give it back when closed. */
    void close() {
        closed = true;
        wake.end(thread);
    }
}
