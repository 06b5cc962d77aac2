package sticky.agent.options;

import java.net.InetSocketAddress;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import sticky.agent.route.Router;
import sticky.agent.route.Trust;

/**
 * The agent options: {@code -javaagent:sticky.jar=key=value,key=value}.
 * Anything unknown or malformed is an {@link IllegalArgumentException} whose
 * message names the option, so the JVM stops before a worker starts.
 * kernelDispatch: {@code dispatch=kernel}, the default with {@code route=ip}:
 * the kernel queues each connection on its slot's socket, which the worker
 * accepts from; {@code dispatch=master}: the master accepts and hands over.
 * cpus: the processors each worker sizes itself for, {@link #CPUS_SHARE}
 * (the default), {@link #CPUS_ALL} or a count. maxMemoryBytes and
 * maxLifetimeMs: past these (PSS, age) a worker is replaced; 0 is off.
 * watchdogMs: how long a worker's clients may wait while it takes none,
 * before it counts as hung; 0 is off. health: the path the watchdog GETs
 * from each worker, or null. privatePorts: ports the application binds
 * that are not clustered: each worker binds the port plus its id.
 * shareMemory: memory=share (the default): each worker sizes its heap for
 * 1/N of the machine's memory, unless the command line sizes it. cds:
 * cds=on (the default): workers share an AOT cache of the classes (JDK 25+),
 * made from what one of them loaded.
 */
public record Options(int workers, String log, long shutdownTimeoutMs, InetSocketAddress metrics, Router router,
        boolean kernelDispatch, int cpus, long maxMemoryBytes, long maxLifetimeMs, long watchdogMs, String health,
        Set<Integer> privatePorts, boolean shareMemory, boolean cds) {
    public static final int MAX_WORKERS = 256;
    /** cpus=share: each worker sees the processors divided among the workers, rounded up. */
    public static final int CPUS_SHARE = 0;
    /** cpus=all: each worker sees every processor, as without sticky. */
    public static final int CPUS_ALL = -1;
    /** HotSpot's limit for -XX:ActiveProcessorCount is higher; no machine sticky runs on comes near this. */
    public static final int MAX_CPUS = 4096;
    private static final int NOT_A_COUNT = Integer.MIN_VALUE;
    private static final Set<String> LOG_LEVELS = Set.of("off", "error", "warn", "info", "debug", "trace");

    public static final long DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;
    /** The largest size option: 1 PiB, more than any machine's memory, far from a long's overflow. */
    private static final long MAX_SIZE = 1L << 50;
    public static final long DEFAULT_WATCHDOG_MS = 30_000;
    private static final String KEYS =
            "workers, log, shutdown-timeout, metrics, route, trust, dispatch, cpus, max-memory, max-lifetime, watchdog, "
                    + "health, private, memory, proxy-header, cds";

    /**
     * The agent's options, as after {@code sticky.jar=}; an
     * IllegalArgumentException names the first option that is wrong, in one
     * line (a control character in a value is shown escaped).
     */
    public static Options parse(String args) {
        try {
            return parseOrFail(args);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(printable(e.getMessage()), e);
        }
    }

    private static Options parseOrFail(String args) {
        int workers = Runtime.getRuntime().availableProcessors();
        String log = "info";
        long shutdownTimeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS;
        InetSocketAddress metrics = null;
        String route = "ip";
        Trust trust = Trust.NOBODY;
        String dispatch = null;
        int cpus = CPUS_SHARE;
        long maxMemory = 0;
        long maxLifetime = 0;
        long watchdog = DEFAULT_WATCHDOG_MS;
        String health = null;
        Set<Integer> privatePorts = Set.of();
        boolean shareMemory = true;
        boolean strip = false;
        boolean cds = true;
        if (args == null || args.isBlank()) {
            return new Options(workers, log, shutdownTimeoutMs, metrics, Router.IP, true, cpus, maxMemory, maxLifetime,
                    watchdog, health, privatePorts, shareMemory, cds);
        }
        Set<String> given = new HashSet<>();
        for (String part : args.split(",", -1)) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("option '" + part.strip()
                        + "' is not key=value (options: " + KEYS + ")");
            }
            String key = part.substring(0, eq).strip();
            String value = part.substring(eq + 1).strip();
            if (!given.add(key) && !key.equals("trust")) {
                // Which one would win is a guess the user should not have to make (trust= adds up).
                throw new IllegalArgumentException("option '" + key + "' is given twice; give it once");
            }
            switch (key) {
                case "workers" -> workers = workers(value);
                case "log" -> log = log(value);
                case "shutdown-timeout" -> shutdownTimeoutMs = duration(key, value);
                case "metrics" -> metrics = address(key, value);
                case "route" -> route = value;
                case "trust" -> trust = trust.and(trust(value));
                case "dispatch" -> dispatch = value;
                case "cpus" -> cpus = cpus(value);
                case "max-memory" -> maxMemory = value.equals("off") ? 0 : size(key, value);
                case "max-lifetime" -> maxLifetime = value.equals("off") ? 0 : positive(key, duration(key, value));
                case "watchdog" -> watchdog = value.equals("off") ? 0 : positive(key, duration(key, value));
                case "health" -> health = path(key, value);
                case "private" -> privatePorts = ports(key, value);
                case "memory" -> shareMemory = either(key, value, "share", "all").equals("share");
                case "proxy-header" -> strip = either(key, value, "keep", "strip").equals("strip");
                case "cds" -> cds = either(key, value, "on", "off").equals("on");
                default -> throw new IllegalArgumentException("unknown option '" + key + "' (options: " + KEYS + ")");
            }
        }
        Router router = Router.of(route, trust, strip);
        if (health != null && (watchdog == 0 || router.mode() == Router.Mode.ROUND_ROBIN)) {
            throw new IllegalArgumentException("option 'health' needs the watchdog on and routing by client (the "
                    + "master reaches each worker from an address of its slot), not " + (watchdog == 0 ? "watchdog=off"
                    : "route=round-robin"));
        }
        return new Options(workers, log, shutdownTimeoutMs, metrics, router, kernelDispatch(dispatch, router), cpus,
                maxMemory, maxLifetime, watchdog, health, privatePorts, shareMemory, cds);
    }

    /** The kernel can pick a worker by the TCP peer only: any other route needs the master. */
    private static boolean kernelDispatch(String value, Router router) {
        boolean byPeer = router.mode() == Router.Mode.IP;
        if (value == null) {
            return byPeer;
        }
        if (value.equals("master")) {
            return false;
        }
        if (!value.equals("kernel")) {
            throw new IllegalArgumentException("option 'dispatch' must be kernel or master, not '" + value + "'");
        }
        if (!byPeer) {
            throw new IllegalArgumentException("option 'dispatch=kernel' routes by the client's address only: "
                    + "route=" + router.mode().name().toLowerCase(Locale.ROOT).replace('_', '-') + " needs dispatch=master");
        }
        return true;
    }

    /** CIDR blocks separated by ';' (trust= may also be given several times). */
    private static Trust trust(String value) {
        try {
            return Trust.parse(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("option 'trust': " + e.getMessage());
        }
    }

    private static int workers(String value) {
        int n = value.equals("auto") ? Runtime.getRuntime().availableProcessors() : count(value, MAX_WORKERS);
        if (n != NOT_A_COUNT) {
            return n;
        }
        throw new IllegalArgumentException("option 'workers' must be a count from 1 to " + MAX_WORKERS
                + " or 'auto', not '" + value + "'");
    }

    private static int cpus(String value) {
        int n = value.equals("share") ? CPUS_SHARE : value.equals("all") ? CPUS_ALL : count(value, MAX_CPUS);
        if (n != NOT_A_COUNT) {
            return n;
        }
        throw new IllegalArgumentException("option 'cpus' must be share, all or a count from 1 to " + MAX_CPUS
                + ", not '" + value + "'");
    }

    /** value as a count from 1 to max, or NOT_A_COUNT: ASCII digits only (Integer.parseInt also takes "+2" and "٢"). */
    private static int count(String value, int max) {
        if (!value.matches("[0-9]{1,4}")) {
            return NOT_A_COUNT;
        }
        int n = Integer.parseInt(value);
        return n >= 1 && n <= max ? n : NOT_A_COUNT;
    }

    /** PORT (on 127.0.0.1: exposing metrics beyond the machine is a choice to make) or HOST:PORT. */
    private static InetSocketAddress address(String key, String value) {
        int colon = value.lastIndexOf(':');
        String host = colon < 0 ? "127.0.0.1" : value.substring(0, colon).replaceAll("^\\[|\\]$", "");
        String port = value.substring(colon + 1);
        // Port 0 would be a port of the kernel's choosing, which no scraper could find.
        if (port.matches("[1-9][0-9]{0,4}") && Integer.parseInt(port) <= 65535 && !host.isEmpty()) {
            return InetSocketAddress.createUnresolved(host, Integer.parseInt(port));
        }
        throw new IllegalArgumentException("option '" + key + "' must be PORT or HOST:PORT (a port from 1 to 65535), "
                + "not '" + value + "'");
    }

    /** 30s, 500ms, 2m, 12h, or plain seconds. */
    private static long duration(String key, String value) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,9})(ms|s|m|h)?").matcher(value);
        if (!m.matches()) {
            throw new IllegalArgumentException("option '" + key + "' must be a duration such as 30s, 500ms, 2m or 12h, "
                    + "not '" + value + "'");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        return switch (unit) {
            case "ms" -> n;
            case "m" -> n * 60_000;
            case "h" -> n * 3_600_000;
            default -> n * 1000;
        };
    }

    /** value, which must be a or b: the options with two values (memory, proxy-header, cds). */
    private static String either(String key, String value, String a, String b) {
        if (!value.equals(a) && !value.equals(b)) {
            throw new IllegalArgumentException("option '" + key + "' must be " + a + " or " + b + ", not '" + value + "'");
        }
        return value;
    }

    /** Ports from 1 to 65535 separated by ';'. */
    private static Set<Integer> ports(String key, String value) {
        Set<Integer> ports = new java.util.TreeSet<>();
        for (String port : value.split(";", -1)) {
            int n = port.strip().matches("\\d{1,5}") ? Integer.parseInt(port.strip()) : 0;
            if (n < 1 || n > 65535) {
                throw new IllegalArgumentException("option '" + key + "' must be ports from 1 to 65535 separated by ';', "
                        + "not '" + value + "'");
            }
            ports.add(n);
        }
        return java.util.Collections.unmodifiableSet(ports);
    }

    /** An absolute HTTP path, as a request line carries it: no space, no control character. */
    private static String path(String key, String value) {
        if (!value.matches("/[\\x21-\\x7e]*")) {
            throw new IllegalArgumentException("option '" + key + "' must be a path such as /health, not '" + value + "'");
        }
        return value;
    }

    private static long positive(String key, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException("option '" + key + "' must be more than 0, or off");
        }
        return value;
    }

    /** 512m, 2g, 300k (binary units, either case), or plain bytes; at least 1 MiB. */
    private static long size(String key, String value) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("([0-9]{1,12})([kKmMgG])?").matcher(value);
        long bytes;
        try {
            bytes = !m.matches() ? -1 : Math.multiplyExact(Long.parseLong(m.group(1)), switch (m.group(2) == null ? ""
                    : m.group(2).toLowerCase(Locale.ROOT)) {
                case "k" -> 1L << 10;
                case "m" -> 1L << 20;
                case "g" -> 1L << 30;
                default -> 1L;
            });
        } catch (ArithmeticException e) {
            bytes = Long.MAX_VALUE; // more than any machine has
        }
        if (bytes > MAX_SIZE) {
            throw new IllegalArgumentException("option '" + key + "' must be at most " + (MAX_SIZE >> 30) + "g, not '"
                    + value + "'");
        }
        if (bytes < (1L << 20)) {
            throw new IllegalArgumentException("option '" + key + "' must be a size of at least 1m, such as 512m or 2g, "
                    + "or off, not '" + value + "'");
        }
        return bytes;
    }

    /** message with each control character shown escaped (\\n, \\u0000): an error is one line, whatever the value. */
    static String printable(String message) {
        StringBuilder out = new StringBuilder(message.length());
        for (char c : message.toCharArray()) {
            if (c == '\n') {
                out.append("\\n");
            } else if (c == '\r') {
                out.append("\\r");
            } else if (c == '\t') {
                out.append("\\t");
            } else if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') { // C0, DEL, C1 (NEL), separators
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
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
