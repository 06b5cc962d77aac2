package sticky.agent.master.control;

import com.sun.jna.Memory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import sticky.agent.jvm.Logs;
import sticky.agent.jvm.RateLimitedLog;
import sticky.agent.unix.Libc;
import sticky.agent.unix.UnixSocket;

/**
 * Accepts control connections on one thread, and gives none of them a
 * thread of its own before it has said something: a connection from another
 * user is closed at once (SO_PEERCRED); one of the master's user waits in
 * this thread's poll set until its first message has arrived (then it is
 * served on a thread of its own) or {@link #FIRST_MESSAGE_MS} have passed
 * (then it is closed), at most {@link #MAX_SILENT} at a time (the oldest is
 * closed for a newer one). A thread that cannot be created (the user's
 * process limit), a shortage of descriptors: the connection at hand is
 * closed and this loop goes on, so that the next worker can still register.
 */
final class ControlAcceptor {
    private static final Logger log = Logs.get();
    static final long FIRST_MESSAGE_MS = 5000;
    static final int MAX_SILENT = 256;
    /** How long accepting pauses when the master is out of descriptors: that clears only as connections close. */
    private static final long OUT_OF_DESCRIPTORS_PAUSE_MS = 100;

    /** What the acceptor tells its server: a connection refused, and why ("from pid N: ..."), to count and log. */
    interface Refusals {
        void refused(String why);
    }

    private record Silent(int fd, long pid, long deadline) {}

    private final int listenFd;
    private final int uid;
    private final IntConsumer serve;
    private final ThreadFactory threads;
    private final Refusals refusals;
    private final RateLimitedLog troubles = new RateLimitedLog(log);
    private final List<Silent> silent = new ArrayList<>();
    private final long firstMessageMs;

    /** serve: runs on a thread of threads', for a connection of the master's user whose first message waits. */
    ControlAcceptor(int listenFd, int uid, IntConsumer serve, ThreadFactory threads, Refusals refusals) {
        this(listenFd, uid, serve, threads, refusals, FIRST_MESSAGE_MS);
    }

    ControlAcceptor(int listenFd, int uid, IntConsumer serve, ThreadFactory threads, Refusals refusals,
            long firstMessageMs) {
        this.firstMessageMs = firstMessageMs;
        this.listenFd = listenFd;
        this.uid = uid;
        this.serve = serve;
        this.threads = threads;
        this.refusals = refusals;
    }

    /** Until the listening socket is shut down. */
    void run() {
        Memory pollfds = new Memory(8L * (MAX_SILENT + 1));
        long acceptAgainAt = 0;
        try {
            while (true) {
                long now = System.nanoTime();
                boolean accepting = now - acceptAgainAt >= 0;
                pollfds.setInt(0, accepting ? listenFd : -1); // a negative fd is skipped by poll
                pollfds.setShort(4, Libc.POLLIN);
                pollfds.setShort(6, (short) 0);
                for (int i = 0; i < silent.size(); i++) {
                    pollfds.setInt(8L * (i + 1), silent.get(i).fd());
                    pollfds.setShort(8L * (i + 1) + 4, Libc.POLLIN);
                    pollfds.setShort(8L * (i + 1) + 6, (short) 0);
                }
                long next = accepting ? Long.MAX_VALUE : acceptAgainAt;
                for (Silent s : silent) {
                    next = Math.min(next, s.deadline());
                }
                int timeout = next == Long.MAX_VALUE ? -1 : (int) Math.max(1, (next - now) / 1_000_000 + 1);
                Libc.poll(pollfds, silent.size() + 1, timeout);
                now = System.nanoTime();
                List<Integer> spoken = new ArrayList<>();
                int i = 0;
                for (Iterator<Silent> it = silent.iterator(); it.hasNext(); i++) {
                    Silent s = it.next();
                    if (pollfds.getShort(8L * (i + 1) + 6) != 0) {
                        it.remove();
                        spoken.add(s.fd());
                    } else if (now - s.deadline() >= 0) {
                        it.remove();
                        // Counted before the hang-up, so that whoever sees the hang-up sees the count.
                        refusals.refused("from pid " + s.pid() + ": it said nothing within " + firstMessageMs + " ms");
                        UnixSocket.close(s.fd());
                    }
                }
                spoken.forEach(this::handOff);
                if (accepting && pollfds.getShort(6) != 0) {
                    int connection;
                    try {
                        connection = UnixSocket.accept(listenFd);
                    } catch (IOException e) {
                        troubles.warn("control socket: {}; accepting again in {} ms", e.getMessage(),
                                OUT_OF_DESCRIPTORS_PAUSE_MS);
                        acceptAgainAt = now + OUT_OF_DESCRIPTORS_PAUSE_MS * 1_000_000;
                        continue;
                    }
                    if (connection < 0) {
                        return; // shut down: the master stops
                    }
                    admit(connection, now);
                }
            }
        } finally {
            silent.forEach(s -> UnixSocket.close(s.fd()));
            pollfds.close();
        }
    }

    /** Another user's connection is closed at once; one of the master's user waits for its first message. */
    private void admit(int connection, long now) {
        UnixSocket.Peer peer;
        try {
            peer = UnixSocket.peer(connection);
        } catch (IOException e) {
            refusals.refused("(" + e.getMessage() + ")");
            UnixSocket.close(connection);
            return;
        }
        if (peer.uid() != uid) {
            refusals.refused("from pid " + peer.pid() + ": user " + peer.uid() + " is not the master's");
            UnixSocket.close(connection);
            return;
        }
        if (silent.size() == MAX_SILENT) {
            Silent oldest = silent.remove(0);
            refusals.refused("from pid " + oldest.pid() + ": " + MAX_SILENT + " connections waited to say something, "
                    + "and it was the oldest");
            UnixSocket.close(oldest.fd());
        }
        silent.add(new Silent(connection, peer.pid(), now + firstMessageMs * 1_000_000));
    }

    /** A connection whose first message waits: served on a thread of its own, or closed if none can be had. */
    private void handOff(int connection) {
        try {
            Thread t = threads.newThread(() -> serve.accept(connection));
            t.start();
        } catch (OutOfMemoryError | RuntimeException e) { // "unable to create native thread": ulimit -u, say
            refusals.refused("(no thread could be created for it: " + e + ")");
            UnixSocket.close(connection);
        }
    }
}
