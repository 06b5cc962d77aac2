package sticky.agent.master.inspect;

import java.io.IOException;
import java.util.Set;
import sticky.agent.unix.Libc;
import sticky.agent.unix.ProcessDescriptors;
import sticky.agent.unix.Sockaddr;
import sticky.agent.unix.TcpInfo;

/**
 * A worker's TCP connections on the listeners' ports, seen from the master
 * through copies of its descriptors ({@link ProcessDescriptors}, pidfd_getfd)
 * and TCP_INFO: what {@link ConnectionDrain} shuts, and what the watchdog
 * asks of a worker that takes no new connection ({@link #sentWithin}).
 */
final class WorkerConnections {
    /** What is done with each connection: a copy of its descriptor (closed after) and its TCP_INFO. */
    interface Visitor {
        /** False to stop at this connection. */
        boolean visit(int copy, TcpInfo info) throws IOException;
    }

    private WorkerConnections() {}

    /**
     * Visits each connection of process pid, established or closed by its
     * peer, whose local port is one of ports (a listener's, not one the
     * application opened itself). Returns how many were visited (0 if the
     * process is gone); an IOException when the kernel refuses the copies.
     */
    static int visit(long pid, Set<Integer> ports, Visitor visitor) throws IOException {
        int visited = 0;
        try (ProcessDescriptors process = ProcessDescriptors.of(pid)) {
            if (process == null) {
                return visited;
            }
            for (int fd : OpenConnections.sockets(pid)) {
                int copy = process.copy(fd);
                if (copy < 0) {
                    continue; // closed meanwhile
                }
                try {
                    TcpInfo info = TcpInfo.of(copy);
                    if (info != null && (info.state() == TcpInfo.ESTABLISHED || info.state() == TcpInfo.CLOSE_WAIT)
                            && ports.contains(Sockaddr.localPort(copy))) {
                        visited++;
                        if (!visitor.visit(copy, info)) {
                            break;
                        }
                    }
                } finally {
                    Libc.close(copy);
                }
            }
            return visited;
        }
    }

    /** How many established connections worker pid holds on ports (0 where the copies are refused). */
    static long established(long pid, Set<Integer> ports) {
        long[] count = {0};
        try {
            visit(pid, ports, (copy, info) -> {
                if (info.state() == TcpInfo.ESTABLISHED) {
                    count[0]++;
                }
                return true;
            });
        } catch (IOException refused) {
            return 0;
        }
        return count[0];
    }

    /**
     * Whether worker pid sent data on one of its established connections
     * within the last withinMs: a worker that takes no new connection but
     * answers on those it has is busy, not hung (Tomcat at maxConnections
     * stops accepting until some close). False where the copies are refused:
     * then the watchdog judges by accepts alone.
     */
    static boolean sentWithin(long pid, Set<Integer> ports, long withinMs) {
        boolean[] sent = {false};
        try {
            visit(pid, ports, (copy, info) -> {
                sent[0] = info.state() == TcpInfo.ESTABLISHED && info.lastDataSentMs() < withinMs;
                return !sent[0];
            });
        } catch (IOException refused) {
            return false;
        }
        return sent[0];
    }
}
