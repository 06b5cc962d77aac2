package sticky.agent.master.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * status --json, written by sticky without a JSON library, read back with
 * one: every field round-trips, names and texts with quotes, backslashes,
 * control characters and non-ASCII among them. The integration tests read
 * the same JSON into records (MasterStatus) that refuse unknown and missing
 * fields, so the two cannot drift apart unnoticed.
 */
class ClusterStatusTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void theJsonReadsBackAsWhatWasWritten() throws Exception {
        Map<String, Integer> replacements = new LinkedHashMap<>();
        replacements.put("crash", 1);
        replacements.put("hang", 0);
        replacements.put("memory", 2);
        replacements.put("lifetime", 0);
        replacements.put("reload", 3);
        String path = "unix /tmp/a \"quoted\" \\ back\tslash\n\u0001 s\u00f8cket \u2603";
        ClusterStatus status = new ClusterStatus(4242, 61_500, 30_000, 3, 2, "worker 3 (pid 9) \"failed\"",
                List.of(new ClusterStatus.Listener("[0:0:0:0:0:0:0:0]:8080", "kernel", List.of(1, 3)),
                        new ClusterStatus.Listener(path, "unix", List.of())),
                List.of(new ClusterStatus.Worker(1, 100, "serving", 4, 12_999, 3, 17, 2, "reload", replacements,
                                List.of(9101), 200, List.of(90L, 91L)),
                        new ClusterStatus.Worker(2, -1, "restarting", 1, 0, 0, 0, 0, null, replacements, List.of(), -1,
                                List.of())),
                new ClusterStatus.Outcome("stopped", "worker 1: replacement pid 7 \"exited\" with code 3", 0),
                new ClusterStatus.Outcome("handed-over", null, 4343), 5);

        JsonNode read = JSON.readTree(status.json());

        assertEquals(List.of("pid", "version", "protocol", "uptimeSeconds", "shutdownTimeoutSeconds", "workersAsked",
                "workersServing", "scaleFailure", "listeners", "workers", "reload", "upgrade",
                "refusedControlConnections"), names(read));
        assertEquals(3, read.get("workersAsked").asInt());
        assertEquals(2, read.get("workersServing").asInt());
        assertEquals("worker 3 (pid 9) \"failed\"", read.get("scaleFailure").asText());
        assertEquals(4242, read.get("pid").asLong());
        assertEquals(61, read.get("uptimeSeconds").asLong());
        assertEquals(30, read.get("shutdownTimeoutSeconds").asLong());
        assertEquals(5, read.get("refusedControlConnections").asLong());
        JsonNode listeners = read.get("listeners");
        assertEquals(2, listeners.size());
        assertEquals("[0:0:0:0:0:0:0:0]:8080", listeners.get(0).get("name").asText());
        assertEquals("kernel", listeners.get(0).get("dispatch").asText());
        assertEquals(List.of(1, 3), ints(listeners.get(0).get("liveWorkers")));
        assertEquals(path, listeners.get(1).get("name").asText());
        assertEquals(List.of(), ints(listeners.get(1).get("liveWorkers")));

        JsonNode serving = read.get("workers").get(0);
        assertEquals(List.of("id", "pid", "state", "generation", "uptimeSeconds", "restarts", "dispatched", "open",
                "lastReplaced", "replacements", "ports", "replacement", "leaving"), names(serving));
        assertEquals(1, serving.get("id").asInt());
        assertEquals(100, serving.get("pid").asLong());
        assertEquals("serving", serving.get("state").asText());
        assertEquals(4, serving.get("generation").asInt());
        assertEquals(12, serving.get("uptimeSeconds").asLong());
        assertEquals(3, serving.get("restarts").asInt());
        assertEquals(17, serving.get("dispatched").asLong());
        assertEquals(2, serving.get("open").asLong());
        assertEquals("reload", serving.get("lastReplaced").asText());
        assertEquals(replacements, JSON.convertValue(serving.get("replacements"), Map.class));
        assertEquals(List.of(9101), ints(serving.get("ports")));
        assertEquals(200, serving.get("replacement").asLong());
        assertEquals(List.of(90, 91), ints(serving.get("leaving")));

        JsonNode restarting = read.get("workers").get(1);
        assertEquals(-1, restarting.get("pid").asLong());
        assertTrue(restarting.get("lastReplaced").isNull());
        assertTrue(restarting.get("replacement").isNull());

        assertEquals("stopped", read.get("reload").get("state").asText());
        assertEquals("worker 1: replacement pid 7 \"exited\" with code 3", read.get("reload").get("why").asText());
        assertEquals("handed-over", read.get("upgrade").get("state").asText());
        assertTrue(read.get("upgrade").get("why").isNull());
        assertEquals(4343, read.get("upgrade").get("master").asLong());
    }

    private static List<String> names(JsonNode object) {
        List<String> names = new ArrayList<>();
        for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
            names.add(it.next());
        }
        return names;
    }

    private static List<Integer> ints(JsonNode array) {
        List<Integer> values = new ArrayList<>();
        array.forEach(n -> values.add(n.asInt()));
        return values;
    }
}
