package sticky.agent.master.ops;

import java.lang.management.ManagementFactory;
import java.util.Map;
import java.util.function.Supplier;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.slf4j.Logger;
import sticky.agent.jvm.Logs;

/**
 * The cluster's figures as JMX beans in the master, for JConsole or
 * VisualVM (attach to the master's pid): {@code dev.sticky:type=Cluster} and
 * one {@code dev.sticky:type=Worker,id=N} per slot. Each read takes a fresh
 * snapshot.
 */
public final class ClusterBeans {
    private static final Logger log = Logs.get();

    /** The cluster; reload() is the rolling restart, upgrade() replaces the master (and answers once it did, or why not). */
    public interface ClusterMXBean {
        long getPid();

        long getUptimeSeconds();

        int getWorkers();

        String[] getListeners();

        long getConnectionsDispatched();

        String reload();

        String upgrade();
    }

    /** One worker slot. Pid is -1 while it has no process. */
    public interface WorkerMXBean {
        int getId();

        long getPid();

        String getState();

        long getUptimeSeconds();

        int getRestarts();

        long getConnectionsDispatched();

        long getConnectionsOpen();

        /** Why the slot last got a new process (crash, hang, memory, lifetime, reload), or null. */
        String getLastReplaced();

        /** How many times it did, for each reason. */
        Map<String, Integer> getReplacements();
    }

    private ClusterBeans() {}

    public static void register(int workers, Operations operations) {
        Supplier<ClusterStatus> status = operations::status;
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try {
            server.registerMBean(new ClusterMXBean() {
                public long getPid() {
                    return status.get().pid();
                }

                public long getUptimeSeconds() {
                    return status.get().uptimeMs() / 1000;
                }

                public int getWorkers() {
                    return workers;
                }

                public String[] getListeners() {
                    return status.get().listeners().stream().map(ClusterStatus.Listener::name).toArray(String[]::new);
                }

                public long getConnectionsDispatched() {
                    return status.get().workers().stream().mapToLong(ClusterStatus.Worker::dispatched).sum();
                }

                public String reload() {
                    String refused = operations.reload();
                    return refused == null ? "rolling restart started" : refused;
                }

                public String upgrade() {
                    return operations.upgrade().text().trim();
                }
            }, new ObjectName("dev.sticky:type=Cluster"));
            for (int id = 1; id <= workers; id++) {
                int slot = id;
                Supplier<ClusterStatus.Worker> worker = () -> status.get().workers().get(slot - 1);
                server.registerMBean(new WorkerMXBean() {
                    public int getId() {
                        return slot;
                    }

                    public long getPid() {
                        return worker.get().pid();
                    }

                    public String getState() {
                        return worker.get().state();
                    }

                    public long getUptimeSeconds() {
                        return worker.get().uptimeMs() / 1000;
                    }

                    public int getRestarts() {
                        return worker.get().restarts();
                    }

                    public long getConnectionsDispatched() {
                        return worker.get().dispatched();
                    }

                    public long getConnectionsOpen() {
                        return worker.get().open();
                    }

                    public String getLastReplaced() {
                        return worker.get().lastReplaced();
                    }

                    public Map<String, Integer> getReplacements() {
                        return worker.get().replacements();
                    }
                }, new ObjectName("dev.sticky:type=Worker,id=" + id));
            }
        } catch (JMException e) {
            log.warn("could not register sticky's JMX beans: {}", e.toString());
        }
    }
}
