package sticky.agent.master.lifecycle;

/**
 * The count of workers asked for (by the start, an upgrade or scale), the
 * count clients are routed over now, and why the last scaling stopped short
 * of its count, or null.
 */
public record Count(int asked, int routed, String failure) {}
