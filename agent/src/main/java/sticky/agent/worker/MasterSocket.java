package sticky.agent.worker;

import java.io.IOException;
import java.nio.file.Path;
import sticky.agent.common.ControlPaths;
import sticky.agent.unix.UnixSocket;

/**
 * A connection to the master's control socket, checked before the worker
 * sends its secret on it: the socket's listener (SO_PEERCRED of a connected
 * Unix socket names the process that listened) must run as this worker's
 * user and be its parent, the master that started it. A socket someone else
 * laid at the path (a TMPDIR other users can write to) gets nothing.
 */
final class MasterSocket {
    /** How long a worker waits for its master's control socket: the master spawns first, then listens. */
    private static final long WAIT_MS = 30_000;

    private MasterSocket() {}

    static int connect(Path control) throws IOException {
        int fd = connectWhenListening(control);
        try {
            UnixSocket.Peer peer = UnixSocket.peer(fd);
            long parent = ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L);
            int uid = ControlPaths.currentUid();
            if (peer.uid() != uid || peer.pid() != parent) {
                throw new IOException(control + " is not this worker's master's (it is pid " + peer.pid() + "'s, user "
                        + peer.uid() + "; the master is pid " + parent + ", user " + uid + "): nothing sent to it");
            }
            return fd;
        } catch (IOException | RuntimeException e) {
            UnixSocket.close(fd);
            throw e;
        }
    }

    /**
     * The master spawns its workers before it listens on the control socket
     * (so that their JVMs start while it finishes its own): until it does,
     * and while it lives, the connect is tried again.
     */
    private static int connectWhenListening(Path control) throws IOException {
        long deadline = System.nanoTime() + WAIT_MS * 1_000_000;
        while (true) {
            try {
                return UnixSocket.connect(control);
            } catch (IOException e) {
                boolean masterAlive = ProcessHandle.current().parent().map(ProcessHandle::isAlive).orElse(false);
                if (!masterAlive || System.nanoTime() - deadline >= 0) {
                    throw e;
                }
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the master's control socket", e);
            }
        }
    }
}
