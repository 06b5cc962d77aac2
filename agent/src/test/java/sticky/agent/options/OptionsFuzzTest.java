package sticky.agent.options;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;

/**
 * The agent's option parser against any string (Jazzer; every build replays
 * the kept inputs in OptionsFuzzTestInputs). Bad options must stop the JVM
 * with one line that names the option: the parser throws only its
 * IllegalArgumentException, in one printable line, and what it accepts is in
 * range.
 */
class OptionsFuzzTest {
    @FuzzTest
    void anyOptions(byte[] data) {
        String args = new String(data, StandardCharsets.UTF_8); // as the JVM decodes -javaagent:...=args
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            String message = e.getMessage();
            assertTrue(message != null && message.contains("option '"), "names the option: " + message);
            assertFalse(message.chars().anyMatch(c -> Character.isISOControl(c) || c == 0x2028 || c == 0x2029),
                    "one printable line: " + message);
            return;
        }
        assertTrue(options.workers() >= 1 && options.workers() <= Options.MAX_WORKERS, "workers " + options.workers());
        assertTrue(options.shutdownTimeoutMs() >= 0, "shutdown-timeout " + options.shutdownTimeoutMs());
        assertTrue(options.maxMemoryBytes() >= 0, "max-memory " + options.maxMemoryBytes());
        assertTrue(options.maxLifetimeMs() >= 0, "max-lifetime " + options.maxLifetimeMs());
        assertTrue(options.watchdogMs() >= 0, "watchdog " + options.watchdogMs());
        assertTrue(options.cpus() == Options.CPUS_SHARE || options.cpus() == Options.CPUS_ALL
                || options.cpus() >= 1 && options.cpus() <= Options.MAX_CPUS, "cpus " + options.cpus());
        assertTrue(options.metrics() == null || options.metrics().getPort() >= 1, "metrics " + options.metrics());
        options.privatePorts().forEach(p -> assertTrue(p >= 1 && p <= 65535, "private port " + p));
    }
}
