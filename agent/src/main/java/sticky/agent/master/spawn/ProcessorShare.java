package sticky.agent.master.spawn;

import com.sun.management.VMOption;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import sticky.agent.jvm.Logs;
import sticky.agent.options.Options;

/**
 * The JVM options that make each worker size itself for its share of the
 * processors: {@code -XX:ActiveProcessorCount}, which what the application
 * sizes from {@code Runtime.availableProcessors()} follows (Netty's and
 * Vert.x's event loops, Jetty's selectors, the common ForkJoinPool) as do the
 * JVM's GC and JIT threads. Without it, N workers on a machine each start the
 * threads of the whole machine: Netty with two workers on two cores ran four
 * event loops where one JVM ran two, and did 0.87-0.92 of its connections.
 *
 * <p>A JVM that counts fewer than two processors is no "server class machine"
 * to HotSpot, which then picks the Serial collector
 * (GCConfig::select_gc_ergonomically, JDK 17 and 25). So when the master's
 * collector is HotSpot's own choice, the workers are given it by name: they
 * collect as the application does without sticky.
 */
public final class ProcessorShare {
    private static final Logger log = Logs.get();
    /** The flags that select HotSpot's collectors, JDK 17 to 25; a build without one does not know its name. */
    private static final List<String> COLLECTORS = List.of("UseSerialGC", "UseParallelGC", "UseG1GC", "UseZGC",
            "UseShenandoahGC", "UseEpsilonGC");

    private ProcessorShare() {}

    /** Options for the workers' command, given the cpus option (see {@link Options}). */
    public static List<String> jvmOptions(int cpus, int workers) {
        if (cpus == Options.CPUS_ALL) {
            return List.of();
        }
        VMOption given = VmFlags.get("ActiveProcessorCount");
        if (cpus == Options.CPUS_SHARE && given != null && VmFlags.setByUser(given)) {
            log.debug("workers keep -XX:ActiveProcessorCount={} as given", given.getValue());
            return List.of(); // they inherit it with the command line or the environment
        }
        int count = count(cpus, workers, Runtime.getRuntime().availableProcessors());
        List<String> options = new ArrayList<>(List.of("-XX:ActiveProcessorCount=" + count));
        for (String flag : COLLECTORS) {
            VMOption option = VmFlags.get(flag);
            if (option != null && option.getValue().equals("true") && !VmFlags.setByUser(option)) {
                options.add("-XX:+" + flag);
            }
        }
        log.debug("workers size themselves for {} processor(s) each: {}", count, String.join(" ", options));
        return options;
    }

    /** The processors a worker counts: the share of processors among workers, rounded up, or as told. */
    static int count(int cpus, int workers, int processors) {
        return cpus == Options.CPUS_SHARE ? (processors + workers - 1) / workers : cpus;
    }
}
