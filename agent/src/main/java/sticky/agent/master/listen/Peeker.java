package sticky.agent.master.listen;

import com.sun.jna.Memory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import sticky.agent.jvm.Logs;
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
 * <p>With proxy-header=strip it reads exactly the PROXY header (once all of
 * it has arrived: MSG_PEEK, then FIONREAD for TLVs past the window) and
 * hands the connection on with the header's client as its peer. A header
 * that is malformed, or still incomplete at the timeout, closes the
 * connection: the worker never gets a stream with part of a header, nor with
 * bytes missing. Bytes that are no header at all are passed on untouched.
 */
final class Peeker {
    private static final Logger log = Logs.get();
    static final long TIMEOUT_MS = 1000;
    /** Connections with part of a header are looked at again this often (poll cannot wait for "more"). */
    private static final int TICK_MS = 10;
    private static final long SAY_CLOSED_EVERY_MS = 60_000;

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
    /** When a closed connection was last logged: at most once a minute, a bad proxy sends many. */
    private volatile long saidClosed = System.currentTimeMillis() - SAY_CLOSED_EVERY_MS;

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
        if (n == 0) {
            return Verdict.PEER; // the client already closed
        }
        Verdict verdict = router.decide(buffer, (int) n);
        if (router.strips() && verdict.header() > n && verdict.header() > Libc.readable(fd)) {
            return Verdict.MORE; // TLVs beyond the window still on their way
        }
        return verdict;
    }

    private void deliver(Pending connection, Verdict verdict) {
        byte[] client = verdict.kind() == Verdict.Kind.CLIENT ? verdict.client() : connection.address();
        if (!router.strips()) {
            route.accept(connection, client); // a malformed header too: the application reads the stream
            return;
        }
        if (verdict.kind() == Verdict.Kind.MALFORMED) {
            closeSaying(connection, "a malformed or incomplete PROXY header");
            return;
        }
        if (verdict.header() > 0 && !consume(connection.fd(), verdict.header())) {
            closeSaying(connection, "a PROXY header that could not be read");
            return;
        }
        route.accept(verdict.kind() == Verdict.Kind.CLIENT
                ? new Pending(connection.fd(), verdict.client(), verdict.port()) : connection, client);
    }

    /** Reads and drops exactly length bytes, all of which have arrived (peeked or counted by FIONREAD). */
    private static boolean consume(int fd, int length) {
        byte[] scratch = new byte[Math.min(length, 4096)];
        for (int left = length; left > 0; ) {
            long n = Libc.recv(fd, scratch, Math.min(left, scratch.length), Libc.MSG_DONTWAIT);
            if (n <= 0) {
                return false;
            }
            left -= (int) n;
        }
        return true;
    }

    private void closeSaying(Pending connection, String what) {
        Libc.close(connection.fd());
        long now = System.currentTimeMillis();
        if (now - saidClosed >= SAY_CLOSED_EVERY_MS) {
            saidClosed = now;
            log.warn("closed a connection from {} that sent {} (proxy-header=strip; said at most once a minute)",
                    text(connection.address()), what);
        }
    }

    private static String text(byte[] address) {
        try {
            return InetAddress.getByAddress(address).getHostAddress();
        } catch (UnknownHostException e) {
            return "?"; // not 4 or 16 bytes: cannot come from accept
        }
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
                    // Part of a header is no stream to pass on when stripping; nothing at all is.
                    verdict = router.strips() && w.seen > 0 ? Verdict.MALFORMED : Verdict.PEER;
                    log.debug("no complete header within {} ms; {}", TIMEOUT_MS,
                            verdict == Verdict.PEER ? "routing by the TCP peer" : "closing it");
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
