package sticky.agent.master;

import java.io.IOException;
import java.util.Set;
import sticky.agent.unix.Libc;
import sticky.agent.unix.ProcessDescriptors;
import sticky.agent.unix.Sockaddr;
import sticky.agent.unix.TcpInfo;

/**
 * Whether a worker is still sending on its connections to the listeners'
 * ports (TCP_INFO's time since data was last sent, through copies of its
 * descriptors, as {@link ConnectionDrain} takes them): a worker that takes
 * no new connection but answers on those it has is busy, not hung (Tomcat
 * at maxConnections stops accepting until some close). False where the
 * copies are refused: then the watchdog judges by accepts alone.
 */
final class ConnectionActivity {
    private ConnectionActivity() {}

    static boolean sentWithin(long pid, Set<Integer> ports, long withinMs) {
        try (ProcessDescriptors process = ProcessDescriptors.of(pid)) {
            if (process == null) {
                return false;
            }
            for (int fd : OpenConnections.sockets(pid)) {
                int copy = process.copy(fd);
                if (copy < 0) {
                    continue;
                }
                try {
                    TcpInfo info = TcpInfo.of(copy);
                    if (info != null && info.state() == TcpInfo.ESTABLISHED && info.lastDataSentMs() < withinMs
                            && ports.contains(Sockaddr.localPort(copy))) {
                        return true;
                    }
                } finally {
                    Libc.close(copy);
                }
            }
            return false;
        } catch (IOException refused) {
            return false;
        }
    }
}
