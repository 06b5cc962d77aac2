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

    /** Whether the thread was let into accept4 (a connection from this master's own wake-up is one it asked for). */
    boolean accepting() {
        return state == State.ACCEPTING;
    }

    /** Something the accept thread waits for changed (a worker went live, the queue made room). */
    synchronized void changed() {
        notifyAll();
    }

    /**
     * Stop for good. Null when asked before (the descriptor may belong to
     * another socket by now: close it never twice); else whether the thread
     * may be in accept4, and must be woken.
     */
    synchronized Boolean close() {
        if (state == State.CLOSING) {
            return null;
        }
        boolean inAccept = state == State.ACCEPTING || state == State.PAUSING;
        state = State.CLOSING;
        notifyAll();
        return inAccept;
    }

    /** Stop accepting until {@link #resume}; whether the thread is in accept4, and must be woken. */
    synchronized boolean pause() {
        if (state == State.CLOSING) {
            return false;
        }
        boolean inAccept = state == State.ACCEPTING;
        state = inAccept ? State.PAUSING : State.PAUSED;
        notifyAll();
        return inAccept;
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
            while ((state == State.ACCEPTING || state == State.PAUSING) && acceptor.isAlive()
                    && System.nanoTime() < deadline) {
                wait(10);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
