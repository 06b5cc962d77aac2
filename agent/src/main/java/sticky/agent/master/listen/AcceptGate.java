package sticky.agent.master.listen;

import java.util.function.BooleanSupplier;

/**
 * Where a master dispatch's accept thread is, or is asked to be, as one
 * state; every change is under this object's lock, and every change wakes
 * whoever waits on it. ACCEPTING: in accept4, or about to be. WAITING:
 * outside accept4, until it may accept (a worker is live, the handoff queue
 * has room). PAUSING: asked to stop accepting for an upgrade's other master,
 * maybe still in accept4; PAUSED: outside it, until {@link #resume}.
 * CLOSING: asked to stop for good; the thread ends.
 */
final class AcceptGate {
    enum State { ACCEPTING, WAITING, PAUSING, PAUSED, CLOSING }

    private volatile State state;

    /** paused: an old master's socket, accepted from once this master takes over. */
    AcceptGate(boolean paused) {
        this.state = paused ? State.PAUSED : State.WAITING;
    }

    boolean closing() {
        return state == State.CLOSING;
    }

    /**
     * Whether the thread is let accept, not asked to pause or stop (else a
     * connection from this master's own wake-up port is that wake-up, not a client).
     */
    boolean accepting() {
        return state == State.ACCEPTING;
    }

    /** Something the accept thread waits for changed (a worker went live, the queue made room). */
    synchronized void changed() {
        notifyAll();
    }

    /** Stop for good; the state it was in (CLOSING again: asked before). */
    synchronized State close() {
        State was = state;
        state = State.CLOSING;
        notifyAll();
        return was;
    }

    /** Stop accepting until {@link #resume}; the state it was in (ACCEPTING: the thread is in accept4). */
    synchronized State pause() {
        State was = state;
        if (was != State.CLOSING) {
            state = was == State.ACCEPTING ? State.PAUSING : State.PAUSED;
            notifyAll();
        }
        return was;
    }

    /** Whether the thread may be in accept4 in state: it must be woken to see a change. */
    static boolean inAccept(State state) {
        return state == State.ACCEPTING || state == State.PAUSING;
    }

    synchronized void resume() {
        if (state == State.PAUSING || state == State.PAUSED) {
            state = State.WAITING;
            notifyAll();
        }
    }

    /**
     * The accept thread, before every accept: waits while paused or while
     * canAccept is false (calling waiting, under this lock, each time it is
     * about to wait unpaused); a plain loop, no allocation while it may
     * accept. False once closing.
     */
    synchronized boolean awaitOpen(BooleanSupplier canAccept, Runnable waiting) throws InterruptedException {
        while (state != State.CLOSING) {
            boolean paused = state == State.PAUSING || state == State.PAUSED;
            if (!paused && canAccept.getAsBoolean()) {
                state = State.ACCEPTING;
                return true;
            }
            state = paused ? State.PAUSED : State.WAITING;
            notifyAll(); // pause and close may wait for the thread to be out of accept4
            if (!paused) {
                waiting.run();
            }
            wait(); // changed, close, pause, resume notify
        }
        return false;
    }

    /** Waits, at most ms, until the thread is out of accept4 (or has ended). */
    synchronized void awaitOutOfAccept(Thread acceptor, long ms) {
        long deadline = System.nanoTime() + ms * 1_000_000;
        try {
            while (inAccept(state) && acceptor.isAlive() && System.nanoTime() < deadline) {
                wait(10);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
