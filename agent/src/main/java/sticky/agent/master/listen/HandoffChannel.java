package sticky.agent.master.listen;

import java.io.IOException;
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
 * taken back ({@link #close}) and handed to another worker.
 */
final class HandoffChannel {
    /** A socket handed to a worker that never accepted it, taken back with its Handoff message. */
    record Unaccepted(int fd, byte[] payload) {}

    private final int sender;
    final int workerEnd;
    private boolean closed;

    HandoffChannel() throws IOException {
        int[] pair = UnixSocket.pair();
        this.sender = pair[0];
        this.workerEnd = pair[1];
    }

    /** Sends the socket without blocking. Returns 0 or the errno (EAGAIN: the worker's queue is full). */
    synchronized int pass(FdPasser passer, int fd, byte[] payload, int length) {
        // Under the lock so that close() cannot free the descriptor number mid-send.
        return closed ? Libc.EPIPE : passer.send(sender, fd, payload, length);
    }

    /** Bytes of Handoff messages queued to the worker (each carries a socket), through the master's copy of its end. */
    synchronized int queuedBytes() {
        int[] bytes = new int[1];
        return closed || Libc.ioctl(workerEnd, Libc.FIONREAD, bytes) < 0 ? 0 : bytes[0];
    }

    /** Closes both ends, once; returns the sockets queued to the worker that it never accepted. */
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
        return unaccepted;
    }
}
