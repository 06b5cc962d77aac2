package sticky.agent.jvm;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import org.slf4j.Logger;

/** The heap of a JVM that runs no application code: the master's. */
public final class Heap {
    private static final Logger log = Logs.get();

    private Heap() {}

    /**
     * Gives back the heap the master does not use. It runs no application
     * code and allocates little, but starts with the application's heap
     * settings: on a large machine HotSpot commits an initial heap of 1/64 of
     * memory, and G1's bookkeeping grows with it. Lowering MaxHeapFreeRatio
     * (a manageable flag, JDK 17 and 25) and collecting once lets the heap
     * shrink towards MinHeapSize; the application's own -Xms still holds.
     */
    public static void giveBackUnused() {
        try {
            HotSpotDiagnosticMXBean hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            hotspot.setVMOption("MinHeapFreeRatio", "10");
            hotspot.setVMOption("MaxHeapFreeRatio", "20");
        } catch (RuntimeException notHotSpot) {
            log.debug("heap free ratios left as they are: {}", notHotSpot.toString());
            return;
        }
        System.gc();
    }
}
