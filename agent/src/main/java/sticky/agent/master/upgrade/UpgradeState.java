package sticky.agent.master.upgrade;

/**
 * How this master's upgrade goes, as status shows it. In the old master:
 * none, running (master: the new one), handed-over, or failed (why). In a
 * new master: taking-over (master: the old one), took-over, or failed.
 */
public record UpgradeState(String state, String why, long master) {
    static final UpgradeState NONE = new UpgradeState("none", null, 0);
}
