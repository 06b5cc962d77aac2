package sticky.agent;

import java.util.Locale;
import java.util.Set;

/**
 * The agent options: {@code -javaagent:sticky.jar=key=value,key=value}.
 * Anything unknown or malformed is an {@link IllegalArgumentException} whose
 * message names the option, so the JVM stops before a worker starts.
 */
public record Options(int workers, String log) {
    public static final int MAX_WORKERS = 256;
    private static final Set<String> LOG_LEVELS = Set.of("off", "error", "warn", "info", "debug", "trace");

    public static Options parse(String args) {
        int workers = Runtime.getRuntime().availableProcessors();
        String log = "info";
        if (args == null || args.isBlank()) {
            return new Options(workers, log);
        }
        for (String part : args.split(",", -1)) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("option '" + part.strip()
                        + "' is not key=value (options: workers=N|auto, log=LEVEL)");
            }
            String key = part.substring(0, eq).strip();
            String value = part.substring(eq + 1).strip();
            switch (key) {
                case "workers" -> workers = workers(value);
                case "log" -> log = log(value);
                default -> throw new IllegalArgumentException("unknown option '" + key + "' (options: workers, log)");
            }
        }
        return new Options(workers, log);
    }

    private static int workers(String value) {
        if (value.equals("auto")) {
            return Runtime.getRuntime().availableProcessors();
        }
        try {
            int n = Integer.parseInt(value);
            if (n >= 1 && n <= MAX_WORKERS) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("option 'workers' must be a count from 1 to " + MAX_WORKERS
                + " or 'auto', not '" + value + "'");
    }

    private static String log(String value) {
        String level = value.toLowerCase(Locale.ROOT);
        if (!LOG_LEVELS.contains(level)) {
            throw new IllegalArgumentException("option 'log' must be one of off, error, warn, info, debug, trace, not '"
                    + value + "'");
        }
        return level;
    }
}
