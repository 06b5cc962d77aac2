package sticky.agent.master.listen;

/**
 * Where each slot's new clients go: to the slot's own worker while it has a
 * live one, else to the next slot that has, wrapping round. The clients of
 * live slots never move. One rule for both dispatches: the kernel's program
 * table and the master's handoff.
 */
final class NextLive {
    private NextLive() {}

    /** For each slot, the first live slot at or after it, wrapping round; -1 for every slot when none is live. */
    static int[] targets(boolean[] live) {
        int n = live.length;
        int[] target = new int[n];
        for (int slot = 0; slot < n; slot++) {
            target[slot] = -1;
            for (int i = 0; i < n; i++) {
                if (live[(slot + i) % n]) {
                    target[slot] = (slot + i) % n;
                    break;
                }
            }
        }
        return target;
    }
}
