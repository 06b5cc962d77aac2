package sticky.agent.master.listen;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import sticky.agent.unix.FdPasser;
import sticky.agent.unix.Libc;
import sticky.agent.unix.UnixSocket;

/**
 * Master dispatch's way to one worker's server socket: a SEQPACKET socket
 * pair. The master sends sockets on its end and closes its own copy at once;
 * it also keeps the worker's end open, so that what is still queued there
 * when the worker closes its server socket or dies is not lost with it but
 * taken back ({@link #close}) and handed to another worker. The pair holds
 * about 278 sockets (the sender's SO_SNDBUF, 212992 bytes by default, over
 * some 768 bytes each); what the worker has no room for yet waits here, in
 * order, until {@link HandoffQueue} sends it on.
 */
final class HandoffChannel {
    /** A socket handed to a worker that never accepted it, taken back with its Handoff message. */
    record Unaccepted(int fd, byte[] payload) {}

    /** {@link #offer}'s answers besides an errno. */
    static final int SENT = 0;
    static final int WAITING = -1;

    private final int sender;
    final int workerEnd;
    private final ArrayDeque<Unaccepted> waiting = new ArrayDeque<>();
    private boolean closed;

    HandoffChannel() throws IOException {
        int[] pair = UnixSocket.pair();
        this.sender = pair[0];
        this.workerEnd = pair[1];
    }

    /**
     * Hands the socket to the worker, or keeps it to hand on after those
     * already waiting: SENT or WAITING, and the channel has fd from then on;
     * or an errno (EPIPE once closed), and the caller still has it.
     */
    synchronized int offer(FdPasser passer, int fd, byte[] payload, int length) {
        if (closed) {
            return Libc.EPIPE;
        }
        if (waiting.isEmpty()) {
            int errno = passer.send(sender, fd, payload, length);
            if (errno == 0) {
                Libc.close(fd);
                return SENT;
            }
            if (errno != Libc.EAGAIN) {
                return errno;
            }
        }
        waiting.add(new Unaccepted(fd, Arrays.copyOf(payload, length)));
        return WAITING;
    }

    /** Sends what waits, in order, while the worker's queue has room; returns how many went. */
    synchronized int flush(FdPasser passer) {
        int sent = 0;
        while (!closed && !waiting.isEmpty()) {
            Unaccepted next = waiting.peek();
            if (passer.send(sender, next.fd(), next.payload(), next.payload().length) != 0) {
                break; // EAGAIN, or a broken pair: close() takes them back
            }
            Libc.close(waiting.poll().fd());
            sent++;
        }
        return sent;
    }

    synchronized int waiting() {
        return waiting.size();
    }

    /** The descriptor to poll for room (POLLOUT). */
    int sender() {
        return sender;
    }

    /** Bytes of Handoff messages queued to the worker (each carries a socket), through the master's copy of its end. */
    synchronized int queuedBytes() {
        return closed ? 0 : Libc.readable(workerEnd);
    }

    /**
     * Closes both ends, once; returns the sockets the worker never accepted:
     * those queued to it, then those waiting here, in the order they came.
     */
    synchronized List<Unaccepted> close() {
        if (closed) {
            return List.of(); // never twice: the numbers may belong to other descriptors by now
        }
        closed = true;
        Libc.close(sender);
        List<Unaccepted> unaccepted = new ArrayList<>();
        FdPasser passer = new FdPasser();
        FdPasser.Received received = new FdPasser.Received();
        byte[] payload = new byte[FdPasser.MAX_PAYLOAD];
        while (true) {
            // The sender is closed: this ends at the end of the queue with 0 (or EAGAIN), never blocks.
            passer.receive(workerEnd, payload, received, Libc.MSG_DONTWAIT);
            if (received.length <= 0) {
                break;
            }
            if (received.fd >= 0) {
                unaccepted.add(new Unaccepted(received.fd, Arrays.copyOf(payload, (int) received.length)));
            }
        }
        Libc.close(workerEnd);
        unaccepted.addAll(waiting);
        waiting.clear();
        return unaccepted;
    }
}
