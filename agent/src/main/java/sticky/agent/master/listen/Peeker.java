package sticky.agent.master.listen;

import com.sun.jna.Memory;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import sticky.agent.Logs;
import sticky.agent.route.Router;
import sticky.agent.route.Verdict;
import sticky.agent.unix.Libc;

/**
 * For route=proxy and route=header: finds the client behind a trusted proxy
 * in the first bytes of the connection, without reading them (recv with
 * MSG_PEEK, so the worker gets the stream untouched) and without holding up
 * other connections. The accept thread looks once; a connection whose header
 * is not all there yet waits here, on one thread that polls them all, until
 * it is complete, proves not to be a header, or {@link #TIMEOUT_MS} passes;
 * then it is routed (by the TCP peer, failing anything better).
 */
final class Peeker {
    private static final Logger log = Logs.get();
    static final long TIMEOUT_MS = 1000;
    /** Connections with part of a header are looked at again this often (poll cannot wait for "more"). */
    private static final int TICK_MS = 10;

    /** An accepted connection waiting to be routed: its descriptor and its TCP peer. */
    record Pending(int fd, byte[] address, int port) {}

    private static final class Waiting {
        final Pending connection;
        final long deadline;
        long seen;
        int pollIndex = -1;

        Waiting(Pending connection, long deadline) {
            this.connection = connection;
            this.deadline = deadline;
        }
    }

    private final Router router;
    private final BiConsumer<Pending, byte[]> route;
    private final ConcurrentLinkedQueue<Waiting> incoming = new ConcurrentLinkedQueue<>();
    private final Wakeup wake = new Wakeup();
    private final Thread thread;
    private volatile boolean closed;

    /** route: dispatches a connection by the given client address. */
    Peeker(Router router, BiConsumer<Pending, byte[]> route, String name) {
        this.router = router;
        this.route = route;
        this.thread = new Thread(this::loop, name);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** On the accept thread: routes now when the bytes tell, else leaves the connection to wait here. */
    void route(Pending connection, byte[] buffer) {
        long[] seen = new long[1];
        Verdict verdict = peek(connection.fd(), buffer, seen);
        if (verdict.kind() != Verdict.Kind.MORE) {
            deliver(connection, verdict);
            return;
        }
        Waiting w = new Waiting(connection, System.currentTimeMillis() + TIMEOUT_MS);
        w.seen = seen[0];
        incoming.add(w);
        wake.signal();
    }

    private Verdict peek(int fd, byte[] buffer, long[] seen) {
        long n = Libc.recv(fd, buffer, Math.min(buffer.length, router.window()), Libc.MSG_PEEK | Libc.MSG_DONTWAIT);
        if (n < 0) {
            return Libc.errno() == Libc.EAGAIN ? Verdict.MORE : Verdict.PEER;
        }
        seen[0] = n;
        return n == 0 ? Verdict.PEER : router.decide(buffer, (int) n); // 0: the client already closed
    }

    private void deliver(Pending connection, Verdict verdict) {
        route.accept(connection, verdict.kind() == Verdict.Kind.CLIENT ? verdict.client() : connection.address());
    }

    private void loop() {
        List<Waiting> waiting = new ArrayList<>();
        byte[] buffer = new byte[router.window()];
        long[] seen = new long[1];
        Memory pollfds = new Memory(8L * 1024);
        while (!closed) {
            for (Waiting w; (w = incoming.poll()) != null; ) {
                waiting.add(w);
            }
            // Poll the wake-up descriptor and the connections that have sent nothing yet.
            List<Waiting> silent = new ArrayList<>();
            long now = System.currentTimeMillis();
            long timeout = Long.MAX_VALUE;
            boolean partial = false;
            for (Waiting w : waiting) {
                timeout = Math.min(timeout, Math.max(0, w.deadline - now));
                if (w.seen == 0) {
                    silent.add(w);
                } else {
                    partial = true;
                }
            }
            if ((silent.size() + 1) * 8L > pollfds.size()) {
                pollfds.close();
                pollfds = new Memory((silent.size() + 1) * 16L);
            }
            pollfds.setInt(0, wake.fd);
            pollfds.setShort(4, Libc.POLLIN);
            pollfds.setShort(6, (short) 0);
            for (Waiting w : waiting) {
                w.pollIndex = -1;
            }
            for (int i = 0; i < silent.size(); i++) {
                silent.get(i).pollIndex = i + 1;
                pollfds.setInt(8L * (i + 1), silent.get(i).connection.fd());
                pollfds.setShort(8L * (i + 1) + 4, Libc.POLLIN);
                pollfds.setShort(8L * (i + 1) + 6, (short) 0);
            }
            int wait = (int) Math.min(partial ? TICK_MS : Integer.MAX_VALUE, timeout == Long.MAX_VALUE ? -1 : timeout);
            Libc.poll(pollfds, silent.size() + 1, timeout == Long.MAX_VALUE && !partial ? -1 : wait);
            if (pollfds.getShort(6) != 0) {
                wake.clear();
            }
            now = System.currentTimeMillis();
            for (Iterator<Waiting> it = waiting.iterator(); it.hasNext(); ) {
                Waiting w = it.next();
                boolean ready = w.pollIndex > 0 && pollfds.getShort(8L * w.pollIndex + 6) != 0;
                boolean expired = now >= w.deadline;
                if (!ready && w.seen == 0 && !expired) {
                    continue;
                }
                Verdict verdict = peek(w.connection.fd(), buffer, seen);
                w.seen = seen[0];
                if (verdict.kind() == Verdict.Kind.MORE && !expired) {
                    continue;
                }
                if (verdict.kind() == Verdict.Kind.MORE) {
                    log.debug("no complete header within {} ms; routing by the TCP peer", TIMEOUT_MS);
                    verdict = Verdict.PEER;
                }
                it.remove();
                deliver(w.connection, verdict);
            }
        }
        pollfds.close();
        for (Waiting w : waiting) {
            Libc.close(w.connection.fd());
        }
        for (Waiting w; (w = incoming.poll()) != null; ) {
            Libc.close(w.connection.fd());
        }
    }

    void close() {
        closed = true;
        wake.end(thread);
    }
}
