package sticky.agent.master;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import sticky.agent.common.Version;

/**
 * A snapshot of the cluster for the operator: as text for people, JSON for
 * scripts, Prometheus text for scrapers, and behind the JMX beans.
 */
record ClusterStatus(long pid, long uptimeMs, long shutdownTimeoutMs, List<String> listeners, List<Worker> workers) {

    /**
     * One slot. pid is -1 while the slot has no process (restarting, finished).
     * lastReplaced: why it last got a new process (Slot.REASONS), or null;
     * replacements: how many times, for each reason. ports: its private
     * ports (private=: each the given port plus the worker's id).
     */
    record Worker(int id, long pid, String state, long uptimeMs, int restarts, long dispatched, long open,
            String lastReplaced, Map<String, Integer> replacements, List<Integer> ports) {}

    String text() {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "sticky master %d, up %s, %d workers, sticky %s (protocol %d)%n", pid,
                duration(uptimeMs), workers.size(), Version.current(), Version.protocol()));
        for (String listener : listeners) {
            out.append("listening on ").append(listener).append('\n');
        }
        for (int i = 0; !workers.isEmpty() && i < workers.get(0).ports().size(); i++) {
            int at = i;
            out.append("private port ").append(workers.get(0).ports().get(i) - workers.get(0).id()).append(": ")
                    .append(workers.stream().map(w -> "worker " + w.id() + " on " + w.ports().get(at))
                            .collect(Collectors.joining(", "))).append('\n');
        }
        out.append(String.format(Locale.ROOT, "%-6s %-8s %-10s %-9s %-8s %-11s %-6s %s%n", "worker", "pid", "state",
                "uptime", "restarts", "dispatched", "open", "last replaced"));
        for (Worker w : workers) {
            out.append(String.format(Locale.ROOT, "%-6d %-8s %-10s %-9s %-8d %-11d %-6d %s%n", w.id(),
                    w.pid() < 0 ? "-" : Long.toString(w.pid()), w.state(), w.pid() < 0 ? "-" : duration(w.uptimeMs()),
                    w.restarts(), w.dispatched(), w.open(), w.lastReplaced() == null ? "-" : w.lastReplaced()));
        }
        return out.toString();
    }

    String json() {
        String workerList = workers.stream().map(w -> String.format(Locale.ROOT,
                "{\"id\":%d,\"pid\":%d,\"state\":\"%s\",\"uptimeSeconds\":%d,\"restarts\":%d,\"dispatched\":%d,\"open\":%d,"
                        + "\"lastReplaced\":%s,\"replacements\":{%s},\"ports\":[%s]}",
                w.id(), w.pid(), w.state(), w.uptimeMs() / 1000, w.restarts(), w.dispatched(), w.open(),
                w.lastReplaced() == null ? "null" : "\"" + w.lastReplaced() + "\"",
                Slot.REASONS.stream().map(r -> "\"" + r + "\":" + w.replacements().get(r)).collect(Collectors.joining(",")),
                w.ports().stream().map(String::valueOf).collect(Collectors.joining(","))))
                .collect(Collectors.joining(","));
        String listenerList = listeners.stream().map(l -> "\"" + l.replace("\\", "\\\\").replace("\"", "\\\"") + "\"")
                .collect(Collectors.joining(","));
        return String.format(Locale.ROOT, "{\"pid\":%d,\"version\":\"%s\",\"protocol\":%d,\"uptimeSeconds\":%d,"
                + "\"shutdownTimeoutSeconds\":%d,\"listeners\":[%s],\"workers\":[%s]}%n", pid, Version.current(),
                Version.protocol(), uptimeMs / 1000,
                shutdownTimeoutMs / 1000, listenerList, workerList);
    }

    String prometheus() {
        StringBuilder out = new StringBuilder();
        metric(out, "sticky_workers", "gauge", "Worker slots.", null, workers.size());
        metric(out, "sticky_listeners", "gauge", "Listening sockets the master holds.", null, listeners.size());
        family(out, "sticky_worker_up", "gauge", "1 while the slot's worker process runs.");
        workers.forEach(w -> sample(out, "sticky_worker_up", w.id(), w.pid() < 0 ? 0 : 1));
        family(out, "sticky_worker_restarts_total", "counter", "Times the slot's worker was started again.");
        workers.forEach(w -> sample(out, "sticky_worker_restarts_total", w.id(), w.restarts()));
        family(out, "sticky_worker_uptime_seconds", "gauge", "Age of the slot's worker process.");
        workers.forEach(w -> sample(out, "sticky_worker_uptime_seconds", w.id(), w.uptimeMs() / 1000));
        family(out, "sticky_worker_replacements_total", "counter",
                "Times the slot got a new process, by reason (crash, hang, memory, lifetime, reload).");
        for (Worker w : workers) {
            for (String reason : Slot.REASONS) {
                out.append("sticky_worker_replacements_total{worker=\"").append(w.id()).append("\",reason=\"")
                        .append(reason).append("\"} ").append(w.replacements().get(reason)).append('\n');
            }
        }
        family(out, "sticky_connections_dispatched_total", "counter", "Connections handed to the slot's workers.");
        workers.forEach(w -> sample(out, "sticky_connections_dispatched_total", w.id(), w.dispatched()));
        family(out, "sticky_connections_open", "gauge", "Established connections the slot's worker holds.");
        workers.forEach(w -> sample(out, "sticky_connections_open", w.id(), w.open()));
        return out.toString();
    }

    private static void metric(StringBuilder out, String name, String type, String help, Integer id, long value) {
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

    static String duration(long ms) {
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
