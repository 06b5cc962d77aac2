package sticky.agent.worker;

import java.io.IOException;
import java.nio.file.Path;
import org.slf4j.Logger;
import sticky.agent.common.Protocol.Hello;
import sticky.agent.common.Protocol.Ready;
import sticky.agent.common.Protocol.Refused;
import sticky.agent.common.Protocol;
import sticky.agent.common.Version;
import sticky.agent.jvm.Logs;
import sticky.agent.unix.UnixSocket;

/**
 * The worker's standing connection to the master. It announces the worker,
 * and a thread waits on it: when the master dies (even by kill -9) the kernel
 * closes the master's end, the wait ends, and the worker exits instead of
 * serving on descriptors that will never deliver again.
 */
public final class MasterLink {
    private static final Logger log = Logs.get();
    private static final long EXIT_GRACE_MS = 2_000;

    private MasterLink() {}

    /** The master speaks another protocol version: the worker cannot join it. */
    public static final class RefusedException extends IOException {
        RefusedException(String message) {
            super(message);
        }
    }

    static void connect(Path control, int worker, String secret) throws IOException {
        int fd = MasterSocket.connect(control);
        UnixSocket.send(fd, Protocol.encode(new Hello(Version.protocol(), worker, secret, ProcessHandle.current().pid())));
        byte[] buffer = new byte[Protocol.MAX_MESSAGE];
        byte[] reply = UnixSocket.receive(fd, buffer);
        Protocol.Message answer = reply == null ? null : Protocol.decode(reply);
        if (!(answer instanceof Ready)) {
            UnixSocket.close(fd);
            if (answer instanceof Refused refused) {
                throw new RefusedException("the master (protocol " + refused.version() + ") refused worker " + worker
                        + " (protocol " + Version.protocol() + "): " + refused.message());
            }
            throw new IOException("the master refused worker " + worker);
        }
        Thread watch = new Thread(() -> watch(fd, worker, buffer), "sticky-master-link");
        watch.setDaemon(true);
        watch.start();
    }

    private static void watch(int fd, int worker, byte[] buffer) {
        try {
            while (UnixSocket.receive(fd, buffer) != null) {
                // the master sends nothing on this connection yet
            }
        } catch (IOException e) {
            log.debug("worker {}: master link: {}", worker, e.getMessage());
        }
        log.error("worker {}: the master is gone; exiting", worker);
        Thread halt = new Thread(() -> {
            try {
                Thread.sleep(EXIT_GRACE_MS); // the application's shutdown hooks get this long
            } catch (InterruptedException ignored) {
                // halt now
            }
            Runtime.getRuntime().halt(1);
        }, "sticky-exit");
        halt.setDaemon(true);
        halt.start();
        System.exit(1);
    }
}
