package sticky.agent.master.lifecycle;

/**
 * The last rolling restart, as status shows it: its state (none, waiting for
 * a slot being replaced alone, running, done, stopped) and why it stopped.
 */
public record ReloadOutcome(String state, String why) {
    static final ReloadOutcome NONE = new ReloadOutcome("none", null);
}
