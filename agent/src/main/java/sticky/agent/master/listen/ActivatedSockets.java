package sticky.agent.master.listen;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.slf4j.Logger;
import sticky.agent.common.IpAddresses;
import sticky.agent.common.Protocol.BindRequest;
import sticky.agent.jvm.Logs;
import sticky.agent.unix.Libc;
import sticky.agent.unix.Sockaddr;

/**
 * Socket activation (systemd's LISTEN_FDS and LISTEN_PID, sd_listen_fds(3)):
 * listening TCP sockets the service manager passed in, from descriptor 3 on.
 * The master adopts one when the application binds its address, instead of
 * binding the port itself: the application needs no support for it, a port
 * below 1024 needs no capability for the JVM, and while the service
 * restarts, connections wait in the socket's backlog (systemd keeps it)
 * instead of being refused. Such a socket is dispatched by the master: it is
 * one socket, not a group of one per slot.
 */
public final class ActivatedSockets {
    private static final Logger log = Logs.get();
    private static final int FIRST_FD = 3; // SD_LISTEN_FDS_START
    /** More than any service manager passes: a larger LISTEN_FDS is a mistake, not sockets. */
    private static final int MAX_FDS = 1024;

    /** One passed-in listening socket. */
    record Socket(int fd, InetSocketAddress local) {}

    private final List<Socket> available;

    private ActivatedSockets(List<Socket> available) {
        this.available = available;
    }

    /**
     * The sockets this process was passed, if LISTEN_PID names it. A
     * LISTEN_FDS that is no count, or descriptors that are no listening TCP
     * sockets, are said in one line each, and left alone.
     */
    public static ActivatedSockets fromEnvironment() {
        String pid = System.getenv("LISTEN_PID");
        String count = System.getenv("LISTEN_FDS");
        List<Socket> sockets = new ArrayList<>();
        if (pid == null || count == null || !pid.equals(Long.toString(ProcessHandle.current().pid()))) {
            return new ActivatedSockets(sockets); // not passed to this process (sd_listen_fds(3))
        }
        if (!count.matches("[0-9]{1,4}") || Integer.parseInt(count) > MAX_FDS) {
            log.warn("socket activation: LISTEN_FDS='{}' is not a count of descriptors from 0 to {}; no socket adopted",
                    count, MAX_FDS);
            return new ActivatedSockets(sockets);
        }
        List<Integer> others = new ArrayList<>();
        for (int fd = FIRST_FD; fd < FIRST_FD + Integer.parseInt(count); fd++) {
            InetSocketAddress local = Sockaddr.local(fd);
            if (local == null || Libc.getIntOption(fd, Libc.SOL_SOCKET, Libc.SO_TYPE) != Libc.SOCK_STREAM
                    || Libc.getIntOption(fd, Libc.SOL_SOCKET, Libc.SO_ACCEPTCONN) != 1) {
                others.add(fd);
                continue;
            }
            log.info("socket activation: {} passed in as descriptor {}", IpAddresses.hostPort(local), fd);
            sockets.add(new Socket(fd, local));
        }
        if (!others.isEmpty()) {
            log.warn("socket activation: {} of the {} descriptors LISTEN_FDS names are not listening TCP sockets "
                    + "(descriptor{} {}); left alone", others.size(), count, others.size() == 1 ? "" : "s",
                    others.size() <= 8 ? others : others.subList(0, 8) + " and " + (others.size() - 8) + " more");
        }
        return new ActivatedSockets(sockets);
    }

    /** The passed-in socket for the address the request binds, taken (each is adopted once); null if none. */
    Socket take(BindRequest request) {
        for (Iterator<Socket> it = available.iterator(); it.hasNext(); ) {
            Socket s = it.next();
            boolean address = s.local.getAddress().equals(request.address())
                    || s.local.getAddress().isAnyLocalAddress() && request.address().isAnyLocalAddress();
            if (request.port() != 0 && s.local.getPort() == request.port() && address) {
                it.remove();
                return s;
            }
        }
        return null;
    }
}
