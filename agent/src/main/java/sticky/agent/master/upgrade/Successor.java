package sticky.agent.master.upgrade;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
import sticky.agent.master.control.ControlServer;
import sticky.agent.master.lifecycle.Lifecycle;
import sticky.agent.master.lifecycle.MasterLoop;
import sticky.agent.master.listen.Listeners;
import sticky.agent.master.spawn.WorkerCommand;
import sticky.agent.unix.FdPasser;
import sticky.agent.unix.Libc;
import sticky.agent.unix.UnixSocket;

/**
 * Replaces this master in place, the old master's side ({@link Predecessor}
 * is the new one's), as nginx's binary upgrade or einhorn's upgrade do. It
 * starts a new master from this one's command line as it is on disk now
 * (the java executable, the @argfiles and jars it names are read again),
 * which connects to this master's control socket, says which protocols it
 * reads and how many workers it runs, and gets every listening socket: a
 * kernel-dispatched group whole, in its order, with a socket added for each
 * of its slots, which this master makes (so that until it exits it knows the
 * group's order, whatever happens to the new one); a master-dispatched or
 * Unix-domain listening socket itself. This master goes on dispatching. Once
 * the new master's workers all serve, it asks to take over: this master
 * stops dispatching (no program of its own any more, its accept thread out
 * of accept), answers with its processes, and once the new master dispatches
 * and has told systemd its pid, its workers leave as at a stop, and it exits.
 * A new master that exits, or has not taken over in {@link #TAKE_OVER_MS},
 * leaves this one serving as before.
 */
public final class Successor implements ControlServer.Upgrades {
    private static final Logger log = Logs.get();
    static final long TAKE_OVER_MS = 120_000;
    private static final String STOPPING = "this master is stopping";

    private final Path control;
    private final byte[] secret;
    private final MasterLoop loop;
    private final Listeners listeners;
    private final Lifecycle lifecycle;
    /** Run on the loop when this master stops dispatching, so that the new master can bind what only one process may. */
    private final Runnable handingOver;
    /** Run on the loop when it dispatches again, the new master having failed after that. */
    private final Runnable resumed;
    /** The count of workers this master's command line asked for. */
    private final int configured;
    private Process next;
    private CompletableFuture<String> outcome;
    /** On the loop: this master stopped dispatching for the new one. */
    private boolean handedOver;
    private volatile UpgradeState state = UpgradeState.NONE;

    public Successor(Path control, String secret, int configured, MasterLoop loop, Listeners listeners,
            Lifecycle lifecycle, Runnable handingOver, Runnable resumed) {
        this.configured = configured;
        this.resumed = resumed;
        this.control = control;
        this.secret = secret.getBytes(StandardCharsets.UTF_8);
        this.loop = loop;
        this.listeners = listeners;
        this.lifecycle = lifecycle;
        this.handingOver = handingOver;
    }

    /** Starts a new master and waits: null once it took over, else why it did not (this master serves on). */
    public String run() {
        String refused;
        int running;
        try {
            refused = loop.ask(lifecycle::upgradeStarts);
            running = loop.ask(() -> lifecycle.count().asked());
        } catch (Exception e) {
            return "upgrade failed: " + e;
        }
        if (refused != null) {
            log.warn("upgrade refused: {}", refused);
            return "upgrade refused: " + refused;
        }
        String why = start(running);
        if (why == null) {
            log.info("upgrade: master {} took over; this master leaves once its workers finish", next.pid());
            state = new UpgradeState("handed-over", null, next.pid());
            loop.post(lifecycle::handedOver);
            return null;
        }
        if (why.equals(STOPPING)) {
            log.warn("upgrade given up: {}; the new master is stopped too", why);
        } else {
            log.error("upgrade failed: {}; this master keeps serving", why);
        }
        state = new UpgradeState("failed", why, next == null ? 0 : next.pid());
        if (next != null && next.isAlive()) {
            next.destroy();
        }
        loop.post(() -> {
            if (handedOver) { // the new master failed after this one had stopped dispatching for it
                handedOver = false;
                listeners.resume();
                resumed.run();
            }
            lifecycle.upgradeEnded();
        });
        return "upgrade failed: " + why;
    }

    /** Starts the new master, telling it the count of workers running here; null once it took over, or why not. */
    private String start(int running) {
        List<String> command;
        try {
            command = WorkerCommand.asStarted(); // the java named, looked up again (a JDK switched through a link)
        } catch (IOException e) {
            return e.getMessage();
        }
        ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
        builder.environment().put(Environment.UPGRADE, control.toString());
        builder.environment().put(Environment.UPGRADE_SECRET, new String(secret, StandardCharsets.UTF_8));
        builder.environment().put(Environment.UPGRADE_WORKERS, running + " " + configured);
        builder.environment().remove("LISTEN_PID"); // its sockets are this master's to hand over
        builder.environment().remove("LISTEN_FDS");
        builder.environment().remove("LISTEN_FDNAMES");
        synchronized (this) {
            outcome = new CompletableFuture<>();
            try {
                next = builder.start();
            } catch (IOException e) {
                return "cannot start a new master: " + e.getMessage();
            }
        }
        log.info("upgrade: started a new master, pid {}", next.pid());
        state = new UpgradeState("running", null, next.pid());
        CompletableFuture<String> result = outcome;
        next.onExit().thenAccept(p -> result.complete("the new master (pid " + p.pid() + ") exited with code "
                + p.exitValue() + " before it took over"));
        try {
            return result.get(TAKE_OVER_MS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            // Completed here, so that a take-over asked for from now on is refused (see serve).
            result.complete("the new master (pid " + next.pid() + ") did not take over within " + TAKE_OVER_MS / 1000
                    + " s");
            return result.getNow(null);
        } catch (Exception e) {
            return e.toString();
        }
    }

    /** How the last upgrade went, or goes. */
    public UpgradeState state() {
        return state;
    }

    /** A stop of this master while a new one starts: that one goes too (it has taken nothing over). */
    public synchronized void abort() {
        if (next != null && next.isAlive() && outcome != null && !outcome.isDone()) {
            outcome.complete(STOPPING);
            next.destroy();
        }
    }

    /**
     * On a control connection: a new master's hello. Hands the sockets over
     * and waits for the take-over, then holds the connection until this
     * master exits (its end tells the new master that this one is gone).
     */
    @Override
    public void serve(int connection, MasterHello hello, long pid) throws IOException {
        CompletableFuture<String> result;
        synchronized (this) {
            result = outcome;
            boolean ours = next != null && next.pid() == pid && result != null && !result.isDone()
                    && MessageDigest.isEqual(secret, hello.secret().getBytes(StandardCharsets.UTF_8));
            if (!ours) {
                log.warn("refused a master's hello from pid {}: no upgrade of this master started it", pid);
                return;
            }
        }
        int mine = Version.protocol();
        if (mine < hello.oldest() || mine > hello.version()) {
            String why = "the new master (protocol " + hello.version() + ") takes over from masters of protocol "
                    + hello.oldest() + " to " + hello.version() + ", and this one speaks protocol " + mine
                    + ": stop this master and start the new version";
            UnixSocket.send(connection, Protocol.encode(new Refused(mine, why)));
            result.complete(why);
            return;
        }
        try {
            handOver(connection, hello.slots());
            expect(connection, TakeOver.class);
            List<Long> pids = loop.ask(() -> {
                if (result.isDone()) { // given up meanwhile (timeout, exit, stop): run's failure goes on the loop too
                    throw new IOException("the upgrade was given up");
                }
                handedOver = true;
                listeners.handedOver();
                handingOver.run();
                return lifecycle.pids();
            });
            UnixSocket.send(connection, Protocol.encode(new Frozen(pids)));
            expect(connection, Done.class);
        } catch (IOException e) {
            result.complete(brokeOff(e));
            return;
        } catch (Exception e) {
            result.complete("the hand-over to the new master (pid " + pid + ") failed: " + e);
            return;
        }
        result.complete(null);
        byte[] buffer = new byte[Protocol.MAX_MESSAGE];
        while (UnixSocket.receive(connection, buffer) != null) {
            // held until this master exits
        }
    }

    /** Why the hand-over ended: the new master's exit, when that was it. */
    private String brokeOff(IOException e) {
        try {
            if (next.waitFor(2, TimeUnit.SECONDS)) {
                return "the new master (pid " + next.pid() + ") exited with code " + next.exitValue()
                        + " before it took over";
            }
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
        return "the hand-over to the new master (pid " + next.pid() + ") broke off: " + e.getMessage();
    }

    private record Handing(List<Listeners.Handed> sockets, List<Integer> generations) {}

    private void handOver(int connection, int slots) throws Exception {
        Handing handing = loop.ask(() -> new Handing(listeners.handOver(slots), lifecycle.generations()));
        List<Listeners.Handed> handed = handing.sockets();
        FdPasser passer = new FdPasser(Protocol.MAX_MESSAGE);
        for (Listeners.Handed h : handed) {
            byte[] message = Protocol.encode(new Handed(h.kind(), h.request(), h.home()));
            int errno = passer.send(connection, h.fd(), message, message.length);
            for (int wait = 0; errno == Libc.EAGAIN && wait < 10_000; wait++) {
                Thread.sleep(1); // the new master reads them as fast as it can; a group of hundreds fills the queue
                errno = passer.send(connection, h.fd(), message, message.length);
            }
            if (errno != 0) {
                throw new IOException("sending a listening socket: " + Libc.strerror(errno));
            }
        }
        UnixSocket.send(connection, Protocol.encode(new HandedAll(handed.size(), handing.generations())));
        log.info("upgrade: handed {} listening socket(s) to the new master", handed.size());
    }

    private static void expect(int connection, Class<? extends Protocol.Message> type) throws IOException {
        byte[] message = UnixSocket.receive(connection, new byte[Protocol.MAX_MESSAGE]);
        if (message == null) {
            throw new IOException("the new master closed the connection");
        }
        Protocol.Message m = Protocol.decode(message);
        if (!type.isInstance(m)) {
            throw new IOException("expected " + type.getSimpleName() + ", got " + m.getClass().getSimpleName());
        }
    }
}
