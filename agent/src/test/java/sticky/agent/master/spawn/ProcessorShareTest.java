package sticky.agent.master.spawn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import sticky.agent.options.Options;

class ProcessorShareTest {
    @Test
    void workersShareTheProcessorsRoundedUp() {
        assertEquals(1, ProcessorShare.count(Options.CPUS_SHARE, 2, 2));
        assertEquals(1, ProcessorShare.count(Options.CPUS_SHARE, 4, 2));
        assertEquals(3, ProcessorShare.count(Options.CPUS_SHARE, 3, 8));
        assertEquals(16, ProcessorShare.count(Options.CPUS_SHARE, 1, 16));
        assertEquals(3, ProcessorShare.count(3, 2, 2));
    }
}
