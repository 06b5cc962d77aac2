package sticky.it.apps;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.stream.Collectors;

/**
 * Prints what sticky documents a worker can read about itself, and the
 * processors it counts and its collectors, then serves like ChannelApp.
 * Args: port.
 */
public final class WorkerIdApp {
    public static void main(String[] args) throws Exception {
        System.out.println("worker property=" + System.getProperty("sticky.worker.id") + " env="
                + System.getenv("STICKY_WORKER_ID") + " pid=" + ProcessHandle.current().pid());
        System.out.println("processors " + Runtime.getRuntime().availableProcessors() + " gc "
                + ManagementFactory.getGarbageCollectorMXBeans().stream().map(GarbageCollectorMXBean::getName)
                        .collect(Collectors.joining(",")));
        ChannelApp.main(args);
    }
}
