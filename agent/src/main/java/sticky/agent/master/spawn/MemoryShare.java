package sticky.agent.master.spawn;

import com.sun.management.OperatingSystemMXBean;
import com.sun.management.VMOption;
import java.lang.management.ManagementFactory;
import java.util.List;
import org.slf4j.Logger;
import sticky.agent.jvm.Logs;

/**
 * memory=share: the JVM option that makes each worker size its heap as a JVM
 * given 1/N of the memory the master sees (the machine's, or its container's
 * limit: OperatingSystemMXBean.getTotalMemorySize, JDK 14+, follows cgroups),
 * {@code -XX:MaxRAM}: HotSpot sizes its default heap from it
 * (Arguments::set_heap_size, JDK 17 and 25; an explicit MaxRAM is taken as
 * the physical memory). Without it N workers each take a quarter of the whole
 * machine, more than it has from N = 5 on. A heap size of the user's (on the
 * command line, in JAVA_TOOL_OPTIONS or JDK_JAVA_OPTIONS, in an @argfile:
 * all end as flags the VM reports as set) is kept: each worker then gets it.
 */
public final class MemoryShare {
    private static final Logger log = Logs.get();
    /** The flags that size the heap, JDK 17 to 25 (MaxRAMFraction and its siblings are the deprecated forms). */
    private static final List<String> HEAP_FLAGS = List.of("MaxHeapSize", "InitialHeapSize", "MinHeapSize", "MaxRAM",
            "MaxRAMPercentage", "MinRAMPercentage", "InitialRAMPercentage", "MaxRAMFraction", "MinRAMFraction",
            "InitialRAMFraction");

    private MemoryShare() {}

    /** Options for the workers' command. */
    public static List<String> jvmOptions(boolean share, int workers) {
        if (!share) {
            return List.of();
        }
        for (String flag : HEAP_FLAGS) {
            VMOption option = VmFlags.get(flag);
            if (option != null && VmFlags.setByUser(option)) {
                log.debug("workers keep the heap size as given (-XX:{}={})", flag, option.getValue());
                return List.of();
            }
        }
        long total = ManagementFactory.getPlatformMXBean(OperatingSystemMXBean.class).getTotalMemorySize();
        long share1 = total / workers;
        log.debug("workers size their heaps for {} MiB of memory each (of {} MiB)", share1 >> 20, total >> 20);
        return List.of("-XX:MaxRAM=" + share1);
    }
}
