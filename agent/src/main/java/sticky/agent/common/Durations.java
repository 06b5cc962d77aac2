package sticky.agent.common;

import java.util.Locale;

/** How sticky writes a duration for people: 42s, 3m07s, 5h12m. */
public final class Durations {
    private Durations() {}

    public static String text(long ms) {
        long s = ms / 1000;
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return (s / 60) + "m" + String.format(Locale.ROOT, "%02d", s % 60) + "s";
        }
        return (s / 3600) + "h" + String.format(Locale.ROOT, "%02d", (s % 3600) / 60) + "m";
    }
}
