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
 * or goes away before it handed the sockets over, stops; one whose old
 * master goes away after that (killed) holds every socket, and takes over
 * on its own at once.
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
    /** The old master's processes once it froze (its answer to TakeOver); null if it went away first. */
    private final CompletableFuture<List<Long>> frozen = new CompletableFuture<>();
    /** The old master's connection ended: it exited. */
    private final CompletableFuture<Void> gone = new CompletableFuture<>();
    /** How long an old master's workers get to notice it died (their exit grace is 2 s), before its sockets are released. */
    private static final long ORPHANS_EXIT_MS = 5000;
    private boolean dispatched;
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
            Predecessor predecessor = new Predecessor(fd, loop, listeners, dispatching, tookOver, generations);
            Thread watch = new Thread(predecessor::watch, "sticky-predecessor");
            watch.setDaemon(true);
            watch.start();
            return predecessor;
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

    /**
     * Watches the old master's connection from the hand-over on: its
     * Frozen (the answer to this master's TakeOver), and its end. An old
     * master that goes away before it answered (killed) leaves its sockets
     * here: this master takes over on its own, at once.
     */
    private void watch() {
        byte[] buffer = new byte[Protocol.MAX_MESSAGE];
        try {
            byte[] message;
            while ((message = UnixSocket.receive(connection, buffer)) != null) {
                if (Protocol.decode(message) instanceof Frozen frozen) {
                    this.frozen.complete(frozen.pids());
                }
            }
        } catch (IOException e) {
            log.debug("the old master's connection: {}", e.getMessage());
        }
        UnixSocket.close(connection);
        gone.complete(null);
        if (!frozen.isDone()) {
            log.warn("upgrade: the old master (pid {}) went away before it handed its dispatch over; this master takes "
                    + "over on its own", state.master());
            frozen.complete(null);
            dispatch(null, "the old master went away before it handed over; taken over alone");
        }
    }

    /** Every worker serves (and has bound what the old master serves): the first time, take over. */
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
        try {
            UnixSocket.send(connection, Protocol.encode(new TakeOver()));
        } catch (IOException e) {
            log.debug("upgrade: the take-over could not be asked for ({}): the old master is going", e.getMessage());
        }
        List<Long> old = frozen.join(); // null: the old master went first, and the watch took over alone
        if (old != null) {
            dispatch(old, null);
        }
    }

    /**
     * This master dispatches from now on (once, whoever gets here first: the
     * take-over, or the watch of an old master that died), tells systemd, and
     * lets the old master go; once it and its processes are gone, its
     * sockets are released.
     */
    private synchronized void dispatch(List<Long> old, String why) {
        if (dispatched) {
            return;
        }
        dispatched = true;
        try {
            loop.ask(() -> {
                listeners.resume();
                dispatching.run();
                return null;
            });
        } catch (Exception e) {
            log.error("upgrade: taking over failed: {}; stopping", e.getMessage());
            state = new UpgradeState("failed", e.getMessage(), state.master());
            failed.complete(1);
            return;
        }
        if (old != null) {
            try {
                UnixSocket.send(connection, Protocol.encode(new Done()));
            } catch (IOException e) {
                log.debug("upgrade: the old master went before Done: {}", e.getMessage());
            }
            log.info("upgrade: this master dispatches now; the old master's {} process(es) leave", old.size());
        }
        state = new UpgradeState("took-over", why, state.master());
        tookOver.run();
        // The old master's processes, once it exits; an old master that died leaves its workers to notice
        // (they exit within their 2 s grace), whose pids this master never learnt.
        CompletableFuture<?> exits = old == null
                ? gone.thenCompose(x -> CompletableFuture.runAsync(() -> { }, CompletableFuture.delayedExecutor(
                        ORPHANS_EXIT_MS, java.util.concurrent.TimeUnit.MILLISECONDS)))
                : gone.thenCompose(x -> CompletableFuture.allOf(old.stream().map(pid -> ProcessHandle.of(pid)
                        .map(ProcessHandle::onExit).orElse(CompletableFuture.completedFuture(null)))
                        .toArray(CompletableFuture[]::new)));
        exits.thenRun(() -> loop.post(() -> {
            listeners.releaseForeign();
            log.info("upgrade done: the old master and its workers are gone");
        }));
    }
}
