package sticky.agent.master.upgrade;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import sticky.agent.common.Environment;
import sticky.agent.common.Protocol.Done;
import sticky.agent.common.Protocol.Frozen;
import sticky.agent.common.Protocol.Handed;
import sticky.agent.common.Protocol.HandedAll;
import sticky.agent.common.Protocol.MasterHello;
import sticky.agent.common.Protocol.Refused;
import sticky.agent.common.Protocol.TakeOver;
import sticky.agent.common.Protocol;
import sticky.agent.common.Version;
import sticky.agent.jvm.Logs;
import sticky.agent.master.lifecycle.LifecycleListener;
import sticky.agent.master.lifecycle.MasterLoop;
import sticky.agent.master.listen.Listeners;
import sticky.agent.unix.FdPasser;
import sticky.agent.unix.Libc;
import sticky.agent.unix.UnixSocket;

/**
 * The master an upgrade replaces, as the new master sees it ({@link Successor}
 * is the old one's side). Before its workers start, the new master takes
 * the old one's listening sockets ({@link #takeSockets}); its listeners
 * adopt them and dispatch nothing yet. When every worker of its own serves
 * (the lifecycle's first {@link #allServing}), it asks the old master to stop
 * dispatching, then dispatches itself, tells systemd its pid (MAINPID,
 * READY), and lets the old master go. Once the old master and its processes
 * are gone, its sockets are released. A new master whose old one refuses it,
 * or goes away before it hands over, stops.
 */
public final class Predecessor implements LifecycleListener {
    private static final Logger log = Logs.get();

    private final int connection;
    private final MasterLoop loop;
    private final Listeners listeners;
    /** Run on the loop once this master dispatches: systemd's MAINPID and READY. */
    private final Runnable dispatching;
    /** Run after that, off the loop: what only one master may hold (the metrics port). */
    private final Runnable tookOver;
    private final CompletableFuture<Integer> failed = new CompletableFuture<>();
    /** The old master's slots' generations, which this master's go on from. */
    private final List<Integer> generations;
    private boolean asked;
    private volatile UpgradeState state;

    private Predecessor(int connection, MasterLoop loop, Listeners listeners, Runnable dispatching, Runnable tookOver,
            List<Integer> generations) {
        this.connection = connection;
        this.loop = loop;
        this.listeners = listeners;
        this.dispatching = dispatching;
        this.tookOver = tookOver;
        this.generations = generations;
        this.state = new UpgradeState("taking-over", null, oldMaster(connection));
    }

    /** The old master's pid, as the kernel says (SO_PEERCRED), or 0. */
    private static long oldMaster(int connection) {
        try {
            return UnixSocket.peer(connection).pid();
        } catch (IOException e) {
            return 0;
        }
    }

    /** How this master's taking over goes. */
    public UpgradeState state() {
        return state;
    }

    /**
     * The count of workers a new master starts with: the old master's running
     * count (scaled since its start, maybe), unless this master's command
     * line asks another count than the old one's did (an edited argfile).
     */
    public static int workers(int asked) {
        String[] counts = String.valueOf(System.getenv(Environment.UPGRADE_WORKERS)).split(" ");
        try {
            int running = Integer.parseInt(counts[0]);
            int configured = Integer.parseInt(counts[1]);
            return asked == configured ? running : asked;
        } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
            return asked; // an old master that says nothing of it
        }
    }

    /** Whether this master was started by an upgrade. */
    public static boolean upgrading() {
        return System.getenv(Environment.UPGRADE) != null;
    }

    /**
     * Says hello to the old master and adopts every socket it hands over;
     * an IOException says why not (a refused version among the reasons).
     */
    public static Predecessor takeSockets(int slots, MasterLoop loop, Listeners listeners, Runnable dispatching,
            Runnable tookOver) throws IOException {
        int fd = UnixSocket.connect(Path.of(System.getenv(Environment.UPGRADE)));
        try {
            String secret = String.valueOf(System.getenv(Environment.UPGRADE_SECRET));
            UnixSocket.send(fd, Protocol.encode(new MasterHello(Version.protocol(), Version.upgradesFrom(), secret,
                    ProcessHandle.current().pid(), slots)));
            List<Integer> generations = new ArrayList<>();
            List<Listeners.Handed> handed = receive(fd, generations);
            try {
                loop.ask(() -> {
                    listeners.adopt(handed);
                    return null;
                });
            } catch (IOException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException("adopting the old master's sockets: " + e, e);
            }
            return new Predecessor(fd, loop, listeners, dispatching, tookOver, generations);
        } catch (IOException | RuntimeException e) {
            UnixSocket.close(fd);
            throw e;
        }
    }

    private static List<Listeners.Handed> receive(int fd, List<Integer> generations) throws IOException {
        FdPasser passer = new FdPasser(Protocol.MAX_MESSAGE);
        FdPasser.Received received = new FdPasser.Received();
        byte[] buffer = new byte[Protocol.MAX_MESSAGE];
        List<Listeners.Handed> handed = new ArrayList<>();
        List<Integer> fds = new ArrayList<>();
        try {
            while (true) {
                passer.receive(fd, buffer, received);
                if (received.length <= 0 || received.truncated) {
                    throw new IOException(received.length == 0 ? "the old master closed the connection"
                            : received.truncated ? "out of descriptors" : Libc.strerror((int) -received.length));
                }
                if (received.fd >= 0) {
                    fds.add(received.fd);
                }
                Protocol.Message m = Protocol.decode(java.util.Arrays.copyOf(buffer, (int) received.length));
                if (m instanceof Refused refused) {
                    throw new IOException("the old master (protocol " + refused.version() + ") refused: "
                            + refused.message());
                } else if (m instanceof Handed h && received.fd >= 0) {
                    handed.add(new Listeners.Handed(h.request(), h.kind(), received.fd, h.home()));
                } else if (m instanceof HandedAll all && all.count() == handed.size()) {
                    generations.addAll(all.generations());
                    return handed;
                } else {
                    throw new IOException("unexpected " + m.getClass().getSimpleName() + " from the old master");
                }
            }
        } catch (IOException | RuntimeException e) {
            fds.forEach(Libc::close);
            throw e;
        }
    }

    /** The old master's slots' generations: this master's first processes are the next. */
    public List<Integer> generations() {
        return generations;
    }

    /** Completes with 1 when the take-over failed: the master then stops. */
    public CompletableFuture<Integer> failed() {
        return failed;
    }

    /** Every worker serves: the first time, take over. */
    @Override
    public void allServing() {
        if (asked) {
            return;
        }
        asked = true;
        Thread t = new Thread(this::takeOver, "sticky-take-over");
        t.setDaemon(true);
        t.start();
    }

    private void takeOver() {
        byte[] buffer = new byte[Protocol.MAX_MESSAGE];
        List<Long> old;
        try {
            UnixSocket.send(connection, Protocol.encode(new TakeOver()));
            byte[] answer = UnixSocket.receive(connection, buffer);
            if (answer == null || !(Protocol.decode(answer) instanceof Frozen frozen)) {
                throw new IOException("the old master went away before it stopped dispatching");
            }
            old = frozen.pids();
            loop.ask(() -> {
                listeners.resume();
                dispatching.run();
                return null;
            });
            UnixSocket.send(connection, Protocol.encode(new Done()));
        } catch (Exception e) {
            log.error("upgrade: taking over failed: {}; stopping", e.getMessage());
            state = new UpgradeState("failed", e.getMessage(), state.master());
            failed.complete(1);
            return;
        }
        log.info("upgrade: this master dispatches now; the old master's {} process(es) leave", old.size());
        state = new UpgradeState("took-over", null, state.master());
        tookOver.run();
        try {
            while (UnixSocket.receive(connection, buffer) != null) {
                // until the old master exits
            }
        } catch (IOException e) {
            log.debug("the old master's connection: {}", e.getMessage());
        }
        UnixSocket.close(connection);
        CompletableFuture<?>[] exits = old.stream().map(pid -> ProcessHandle.of(pid)
                .map(ProcessHandle::onExit).orElse(CompletableFuture.completedFuture(null)))
                .toArray(CompletableFuture[]::new);
        CompletableFuture.allOf(exits).thenRun(() -> loop.post(() -> {
            listeners.releaseForeign();
            log.info("upgrade done: the old master and its workers are gone");
        }));
    }
}
