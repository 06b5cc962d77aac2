package sticky.agent.master.listen;

import java.io.IOException;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import sticky.agent.Logs;
import sticky.agent.common.Protocol.BindRequest;

/**
 * The kernel dispatches: one listening socket per slot in a SO_REUSEPORT
 * group ({@link SlotSockets}) and a program that queues each connection on
 * its client's slot's socket, or the next live slot's. A route's worker end
 * is its slot's socket, borrowed: the socket, its place in the group and its
 * backlog outlive the worker, so that its successor accepts what is queued.
 */
final class KernelDispatch implements Dispatch {
    private static final Logger log = Logs.get();

    private final SlotSockets sockets;

    private KernelDispatch(SlotSockets sockets) {
        this.sockets = sockets;
    }

    /** The slots' sockets, or null when this kernel cannot attach the program (before Linux 4.5). */
    static KernelDispatch open(BindRequest request, int slots, int backlog) throws IOException {
        SlotSockets sockets = SlotSockets.open(request, slots, backlog);
        try {
            KernelDispatch dispatch = new KernelDispatch(sockets);
            dispatch.steerOrFail(new Route[slots]); // before any worker: each slot's to its own socket
            return dispatch;
        } catch (IOException e) {
            log.warn("listener on {}: the kernel cannot dispatch ({}); the master does", sockets.localAddress(),
                    e.getMessage());
            sockets.close();
            return null;
        } catch (RuntimeException e) {
            sockets.close();
            throw e;
        }
    }

    @Override
    public InetSocketAddress localAddress() {
        return sockets.localAddress();
    }

    @Override
    public boolean byKernel() {
        return true;
    }

    @Override
    public int attach(int slot) {
        return sockets.fd(slot);
    }

    @Override
    public void steer(Route[] live) {
        try {
            steerOrFail(live);
        } catch (IOException e) {
            log.error("listener {}: {}", sockets.localAddress(), e.getMessage());
        }
    }

    /** With no slot live, each slot's clients wait in the backlog of its own socket. */
    private void steerOrFail(Route[] live) throws IOException {
        boolean[] alive = new boolean[live.length];
        for (int i = 0; i < live.length; i++) {
            alive[i] = live[i] != null;
        }
        int[] target = NextLive.targets(alive);
        for (int slot = 0; slot < target.length; slot++) {
            target[slot] = target[slot] < 0 ? slot : target[slot];
        }
        sockets.route(target);
    }

    /**
     * Nothing to take back: no handoff channel reaches a worker here, and
     * what is queued on the slot's socket waits there for the slot's next worker.
     */
    @Override
    public void detach(Route route, boolean handOn) {}

    /** Only the master's copies: each worker's stays open until its application closes it. */
    @Override
    public void stopAccepting() {
        try {
            sockets.close();
        } catch (IOException e) {
            log.warn("closing listener {}: {}", sockets.localAddress(), e.toString());
        }
    }

    @Override
    public void close() {
        stopAccepting();
    }
}
