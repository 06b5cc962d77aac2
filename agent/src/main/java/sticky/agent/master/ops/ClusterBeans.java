package sticky.agent.master.ops;

import java.lang.management.ManagementFactory;
import java.util.Map;
import java.util.function.Supplier;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.slf4j.Logger;
import sticky.agent.jvm.Logs;
import sticky.agent.master.lifecycle.LifecycleListener;

/**
 * The cluster's figures as JMX beans in the master, for JConsole or
 * VisualVM (attach to the master's pid): {@code dev.sticky:type=Cluster} and
 * one {@code dev.sticky:type=Worker,id=N} per worker clients are routed to
 * (a scale adds and removes them). Each read takes a fresh snapshot.
 */
public final class ClusterBeans implements LifecycleListener {
    private static final Logger log = Logs.get();

    /**
     * The cluster; reload() is the rolling restart, upgrade() replaces the
     * master, scale(N) changes the count of workers (both answer once done,
     * or why not).
     */
    public interface ClusterMXBean {
        long getPid();

        long getUptimeSeconds();

        /** The workers clients are routed over. */
        int getWorkers();

        /** The count of workers asked for (the start, an upgrade, the last scale). */
        int getWorkersAsked();

        String[] getListeners();

        long getConnectionsDispatched();

        String reload();

        String upgrade();

        String scale(int workers);
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

    /**
     * The platform MBean server, once {@link #register} asked for it: making
     * it takes 80-180 ms of the master's start, which goes after the workers'
     * spawns.
     */
    private MBeanServer server;
    private Operations operations;
    /** The worker beans registered: ids 1 to this. */
    private int registered;
    /** The count of workers clients are routed to, as last told. */
    private int routed;

    /** Registers the cluster's bean and one per worker routed to (the first count, or what scaled said since). */
    public synchronized void register(Operations operations, int workers) {
        this.operations = operations;
        routed = Math.max(routed, workers);
        server = ManagementFactory.getPlatformMBeanServer();
        Supplier<ClusterStatus> status = operations::status;
        try {
            server.registerMBean(new ClusterMXBean() {
                public long getPid() {
                    return status.get().pid();
                }

                public long getUptimeSeconds() {
                    return status.get().uptimeMs() / 1000;
                }

                public int getWorkers() {
                    return status.get().workersServing();
                }

                public int getWorkersAsked() {
                    return status.get().workersAsked();
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

                public String scale(int workers) {
                    return operations.scale(Integer.toString(workers)).text().trim();
                }
            }, new ObjectName("dev.sticky:type=Cluster"));
        } catch (JMException e) {
            log.warn("could not register sticky's JMX beans: {}", e.toString());
        }
        scaled(routed);
    }

    /** One bean per worker clients are routed to: new ones for new slots, none for slots gone. */
    @Override
    public synchronized void scaled(int workers) {
        routed = workers;
        if (server == null) {
            return; // registered with the others
        }
        try {
            for (; registered < workers; registered++) {
                server.registerMBean(worker(registered + 1), name(registered + 1));
            }
            for (; registered > workers; registered--) {
                server.unregisterMBean(name(registered));
            }
        } catch (JMException e) {
            log.warn("could not register sticky's JMX beans: {}", e.toString());
        }
    }

    private static ObjectName name(int id) throws JMException {
        return new ObjectName("dev.sticky:type=Worker,id=" + id);
    }

    private WorkerMXBean worker(int id) {
        Supplier<ClusterStatus.Worker> worker = () -> operations.status().workers().stream().filter(w -> w.id() == id)
                .findFirst().orElseThrow(() -> new IllegalStateException("no worker " + id + " any more"));
        return new WorkerMXBean() {
            public int getId() {
                return id;
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
        };
    }
}
