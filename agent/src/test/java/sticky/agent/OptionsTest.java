package sticky.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class OptionsTest {
    private static final int PROCESSORS = Runtime.getRuntime().availableProcessors();

    @Test
    void defaultsAreOneWorkerPerProcessorAndInfoLogs() {
        assertEquals(new Options(PROCESSORS, "info"), Options.parse(null));
        assertEquals(new Options(PROCESSORS, "info"), Options.parse(""));
    }

    @Test
    void parsesEveryKey() {
        assertEquals(new Options(4, "debug"), Options.parse("workers=4,log=DEBUG"));
        assertEquals(new Options(PROCESSORS, "warn"), Options.parse(" workers = auto , log=warn"));
        assertEquals(new Options(Options.MAX_WORKERS, "info"), Options.parse("workers=256"));
    }

    @Test
    void errorsNameTheOption() {
        assertEquals("unknown option 'wrokers' (options: workers, log)",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("wrokers=2")).getMessage());
        assertEquals("option 'workers' must be a count from 1 to 256 or 'auto', not '257'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("workers=257")).getMessage());
        assertEquals("option 'workers' must be a count from 1 to 256 or 'auto', not '-1'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("workers=-1")).getMessage());
        assertEquals("option 'workers' must be a count from 1 to 256 or 'auto', not ''",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("workers=")).getMessage());
        assertEquals("option '' is not key=value (options: workers=N|auto, log=LEVEL)",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("workers=2,")).getMessage());
    }
}
