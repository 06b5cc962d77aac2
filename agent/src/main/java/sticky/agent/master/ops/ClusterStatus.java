package sticky.agent.master.ops;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import sticky.agent.common.Durations;
import sticky.agent.common.Version;
import sticky.agent.master.lifecycle.Reason;

/**
 * A snapshot of the cluster for the operator: as text for people, JSON for
 * scripts (and for sticky's own tests, which wait on it), Prometheus text for
 * scrapers, and behind the JMX beans. The JSON's fields are README's:
 * workersAsked, the count asked for (the start, an upgrade, the last scale);
 * workersServing, the count clients are routed over; scaleFailure, why the
 * last scale stopped short, or null; refusedControlConnections, the control
 * connections refused (not a worker of this master), each logged.
 */
public record ClusterStatus(long pid, long uptimeMs, long shutdownTimeoutMs, int workersAsked, int workersServing,
        String scaleFailure, List<Listener> listeners, List<Worker> workers, Outcome reload, Outcome upgrade,
        long refusedControlConnections) {

    /** A listening address; dispatch: kernel, master or unix; liveWorkers: the ids whose own worker gets their clients. */
    public record Listener(String name, String dispatch, List<Integer> liveWorkers) {}

    /**
     * One slot. pid is -1 while the slot has no process (restarting,
     * finished); state is the slot's (restarting, finished) or its process's
     * phase (starting, running, serving, leaving, hung). lastReplaced: why it
     * last got a new process (a {@link Reason}'s label), or null;
     * replacements: how many times, for each reason. ports: its private
     * ports (private=: each the given port plus the worker's id).
     * replacement: the pid of the process about to take the slot over, or
     * -1; leaving: its processes that are leaving.
     */
    public record Worker(int id, long pid, String state, int generation, long uptimeMs, int restarts, long dispatched,
            long open, String lastReplaced, Map<String, Integer> replacements, List<Integer> ports, long replacement,
            List<Long> leaving) {}

    /**
     * How the last rolling restart or upgrade went: its state, why it failed
     * or stopped (or null), and for an upgrade the other master's pid (0 if none).
     */
    public record Outcome(String state, String why, long master) {
        public static final Outcome NONE = new Outcome("none", null, 0);
    }

    public String text() {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "sticky master %d, up %s, %d workers%s, sticky %s (protocol %d)%n", pid,
                Durations.text(uptimeMs), workersServing, workersAsked == workersServing ? ""
                        : " (scaling to " + workersAsked + ")", Version.current(), Version.protocol()));
        if (scaleFailure != null) {
            out.append("last scale stopped: ").append(scaleFailure).append('\n');
        }
        for (Listener listener : listeners) {
            out.append("listening on ").append(listener.name()).append(" (").append(listener.dispatch())
                    .append(" dispatch)\n");
        }
        for (int i = 0; !workers.isEmpty() && i < workers.get(0).ports().size(); i++) {
            int at = i;
            out.append("private port ").append(workers.get(0).ports().get(i) - workers.get(0).id()).append(": ")
                    .append(workers.stream().map(w -> "worker " + w.id() + " on " + w.ports().get(at))
                            .collect(Collectors.joining(", "))).append('\n');
        }
        if (!reload.state().equals("none")) {
            out.append("last rolling restart: ").append(reload.state())
                    .append(reload.why() == null ? "" : " (" + reload.why() + ")").append('\n');
        }
        if (!upgrade.state().equals("none")) {
            out.append("upgrade: ").append(upgrade.state()).append(upgrade.master() == 0 ? "" : ", master " + upgrade.master())
                    .append(upgrade.why() == null ? "" : " (" + upgrade.why() + ")").append('\n');
        }
        out.append(String.format(Locale.ROOT, "%-6s %-8s %-10s %-9s %-8s %-11s %-6s %s%n", "worker", "pid", "state",
                "uptime", "restarts", "dispatched", "open", "last replaced"));
        for (Worker w : workers) {
            out.append(String.format(Locale.ROOT, "%-6d %-8s %-10s %-9s %-8d %-11d %-6d %s%n", w.id(),
                    w.pid() < 0 ? "-" : Long.toString(w.pid()), w.state(),
                    w.pid() < 0 ? "-" : Durations.text(w.uptimeMs()), w.restarts(), w.dispatched(), w.open(),
                    w.lastReplaced() == null ? "-" : w.lastReplaced()));
        }
        return out.toString();
    }

    public String json() {
        String workerList = workers.stream().map(w -> "{\"id\":" + w.id() + ",\"pid\":" + w.pid() + ",\"state\":"
                + Json.string(w.state()) + ",\"generation\":" + w.generation() + ",\"uptimeSeconds\":"
                + w.uptimeMs() / 1000 + ",\"restarts\":" + w.restarts() + ",\"dispatched\":" + w.dispatched()
                + ",\"open\":" + w.open() + ",\"lastReplaced\":" + Json.string(w.lastReplaced())
                + ",\"replacements\":{" + Arrays.stream(Reason.values())
                        .map(r -> Json.string(r.label()) + ":" + w.replacements().getOrDefault(r.label(), 0))
                        .collect(Collectors.joining(","))
                + "},\"ports\":" + Json.list(w.ports()) + ",\"replacement\":"
                + (w.replacement() < 0 ? "null" : Long.toString(w.replacement())) + ",\"leaving\":"
                + Json.list(w.leaving()) + "}").collect(Collectors.joining(","));
        String listenerList = listeners.stream().map(l -> "{\"name\":" + Json.string(l.name()) + ",\"dispatch\":"
                + Json.string(l.dispatch()) + ",\"liveWorkers\":" + Json.list(l.liveWorkers()) + "}")
                .collect(Collectors.joining(","));
        return "{\"pid\":" + pid + ",\"version\":" + Json.string(Version.current()) + ",\"protocol\":"
                + Version.protocol() + ",\"uptimeSeconds\":" + uptimeMs / 1000 + ",\"shutdownTimeoutSeconds\":"
                + shutdownTimeoutMs / 1000 + ",\"workersAsked\":" + workersAsked + ",\"workersServing\":"
                + workersServing + ",\"scaleFailure\":" + Json.string(scaleFailure)
                + ",\"listeners\":[" + listenerList + "],\"workers\":[" + workerList
                + "],\"reload\":{\"state\":" + Json.string(reload.state()) + ",\"why\":" + Json.string(reload.why())
                + "},\"upgrade\":{\"state\":" + Json.string(upgrade.state()) + ",\"why\":"
                + Json.string(upgrade.why()) + ",\"master\":" + (upgrade.master() == 0 ? "null" : upgrade.master())
                + "},\"refusedControlConnections\":" + refusedControlConnections + "}\n";
    }

    public String prometheus() {
        StringBuilder out = new StringBuilder();
        metric(out, "sticky_workers", "gauge", "Workers clients are routed over.", workersServing);
        metric(out, "sticky_workers_asked", "gauge", "Workers asked for (the start, an upgrade, the last scale).",
                workersAsked);
        metric(out, "sticky_listeners", "gauge", "Listening sockets the master holds.", listeners.size());
        family(out, "sticky_worker_up", "gauge", "1 while the slot's worker process runs.");
        workers.forEach(w -> sample(out, "sticky_worker_up", w.id(), w.pid() < 0 ? 0 : 1));
        family(out, "sticky_worker_restarts_total", "counter", "Times the slot's worker was started again.");
        workers.forEach(w -> sample(out, "sticky_worker_restarts_total", w.id(), w.restarts()));
        family(out, "sticky_worker_uptime_seconds", "gauge", "Age of the slot's worker process.");
        workers.forEach(w -> sample(out, "sticky_worker_uptime_seconds", w.id(), w.uptimeMs() / 1000));
        family(out, "sticky_worker_replacements_total", "counter",
                "Times the slot got a new process, by reason (crash, hang, memory, lifetime, reload).");
        for (Worker w : workers) {
            for (Reason reason : Reason.values()) {
                out.append("sticky_worker_replacements_total{worker=\"").append(w.id()).append("\",reason=\"")
                        .append(reason.label()).append("\"} ").append(w.replacements().getOrDefault(reason.label(), 0))
                        .append('\n');
            }
        }
        family(out, "sticky_connections_dispatched_total", "counter", "Connections handed to the slot's workers.");
        workers.forEach(w -> sample(out, "sticky_connections_dispatched_total", w.id(), w.dispatched()));
        family(out, "sticky_connections_open", "gauge", "Established connections the slot's worker holds.");
        workers.forEach(w -> sample(out, "sticky_connections_open", w.id(), w.open()));
        return out.toString();
    }

    private static void metric(StringBuilder out, String name, String type, String help, long value) {
        family(out, name, type, help);
        out.append(name).append(' ').append(value).append('\n');
    }

    private static void family(StringBuilder out, String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void sample(StringBuilder out, String name, int id, long value) {
        out.append(name).append("{worker=\"").append(id).append("\"} ").append(value).append('\n');
    }
}
