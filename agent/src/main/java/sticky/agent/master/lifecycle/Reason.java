package sticky.agent.master.lifecycle;

import java.util.Locale;

/**
 * Why a slot got a new process: its worker crashed or hung, grew past
 * max-memory, reached max-lifetime, or a rolling restart replaced it.
 * Status, JMX and the metrics name each by {@link #label}.
 */
public enum Reason {
    CRASH, HANG, MEMORY, LIFETIME, RELOAD;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
