package sticky.agent.master.lifecycle;

import java.util.List;
import java.util.Map;

/**
 * One slot as the operator sees it: its state (restarting, finished, or its
 * process's phase), its serving process (pid -1 when it has none), a
 * replacement's pid or -1, and the pids of its processes that are leaving.
 */
public record SlotView(int slot, long pid, String state, int generation, long uptimeMs, int restarts,
        Reason lastReplaced, Map<Reason, Integer> replacements, long replacement, List<Long> leaving) {}
