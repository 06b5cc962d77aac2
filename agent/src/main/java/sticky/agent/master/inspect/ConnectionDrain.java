package sticky.agent.master.inspect;

import java.io.IOException;
import org.slf4j.Logger;
import sticky.agent.jvm.Logs;
import sticky.agent.master.lifecycle.Drain;
import sticky.agent.master.listen.Listeners;
import sticky.agent.unix.Libc;
import sticky.agent.unix.ProcessDescriptors;

/**
 * Finishes a leaving worker's connections on the listeners' ports, from the
 * master, through copies of its descriptors ({@link ProcessDescriptors}).
 * Each connection that has received a request is shut for reading
 * (shutdown SHUT_RD on the shared socket): the worker still reads what has
 * arrived and writes its answer, and its next read is the end of the
 * stream, so that a request/response server closes the connection once it
 * has answered, as a server that stops gracefully does, whether or not the
 * application knows how. A client that sends its next request on that
 * connection sees it closed before any answer, and sends it again on a new
 * one, to a live worker, as HTTP clients do. A connection that has received
 * nothing yet, has not answered anything yet (its first request may still
 * be on its way: the kernel's times are in jiffies, and a body that came in
 * the connection's first milliseconds looks no later than its start), or is
 * still receiving (it received data later than it last sent any: a request
 * body on its way), waits for its next look. The worker
 * is done when it holds no connection and none is queued for it. Where the
 * kernel refuses the copies (a container's seccomp profile), it says so
 * once, and workers leave without waiting for their requests.
 */
public final class ConnectionDrain implements Drain {
    private static final Logger log = Logs.get();

    private final Listeners listeners;
    private boolean refused;

    public ConnectionDrain(Listeners listeners) {
        this.listeners = listeners;
    }

    @Override
    public boolean busy(long pid) {
        if (listeners.queued(pid)) {
            return true;
        }
        if (refused) {
            return false;
        }
        try {
            int holds = WorkerConnections.visit(pid, listeners.ports(), (copy, info) -> {
                if (info.bytesReceived() > 0 && info.answered() && !info.receivedSinceSent()) {
                    Libc.shutdown(copy, Libc.SHUT_RD); // it has its whole request, as far as is seen
                }
                return true;
            });
            return holds > 0; // none: it has finished, or exited
        } catch (IOException e) {
            refused = true;
            log.warn("cannot look into worker pid {}'s connections ({}); workers now leave without waiting for their "
                    + "requests", pid, e.getMessage());
            return false;
        }
    }
}
