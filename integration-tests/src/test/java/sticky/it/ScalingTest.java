package sticky.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.tools.attach.VirtualMachine;
import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sticky.it.apps.HttpServerApp;

/**
 * The count of workers changes while the cluster serves (scale, SIGTTIN,
 * SIGTTOU, JMX), and only the clients that must move do: growing by one
 * moves about 1/(N + 1) of them, all to the new worker; shrinking by one
 * gives back the earlier mapping exactly; both dispatches, and a master
 * started with that count, map alike. Under load, with an application that
 * has no graceful stop of its own, no request fails, counted as a client
 * counts.
 */
@Timeout(300)
class ScalingTest {
    private static final int CLIENTS = 300;

    @Test
    void growingMovesAFifthToTheNewWorkerOnlyAndShrinkingGivesTheMappingBack() throws Exception {
        List<InetAddress> sources = Clients.ipv4(CLIENTS);
        Map<InetAddress, Integer> four;
        Map<InetAddress, Integer> five;
        try (Cluster cluster = Cluster.withAgent("workers=4", HttpServerApp.class, "0")) {
            int port = cluster.awaitPort(4);
            four = slots(cluster, port, sources);
            assertEquals(new OperatorTest.Run(0, "serving with 5 workers\n"),
                    OperatorTest.cli("scale", "5", Long.toString(cluster.process().pid())));
            MasterStatus status = cluster.status();
            assertEquals(5, status.workersAsked());
            assertEquals(5, status.workersServing());
            five = slots(cluster, port, sources);
            int moved = 0;
            for (InetAddress source : sources) {
                if (!four.get(source).equals(five.get(source))) {
                    assertEquals(5, five.get(source), source + " moved, and not to the new worker");
                    moved++;
                }
            }
            // A fifth of 300 is 60; a binomial draw's standard deviation here is about 7.
            assertTrue(moved > 60 - 4 * 7 && moved < 60 + 4 * 7, moved + " of " + CLIENTS + " clients moved at 4 -> 5");
            System.out.printf("scaling 4 -> 5 moved %d of %d clients (%.1f%%), every one to worker 5%n", moved, CLIENTS,
                    100.0 * moved / CLIENTS);
            assertEquals(new OperatorTest.Run(0, "serving with 4 workers\n"),
                    OperatorTest.cli("scale", "-1", Long.toString(cluster.process().pid())));
            assertEquals(four, slots(cluster, port, sources), "5 -> 4 gives back the first mapping");
            assertEquals(4, cluster.status().workers().size(), "worker 5 is gone");
        }
        try (Cluster cluster = Cluster.withAgent("workers=4,dispatch=master", HttpServerApp.class, "0")) {
            int port = cluster.awaitPort(4);
            assertEquals(four, slots(cluster, port, sources), "master dispatch maps as the kernel does");
            assertEquals(0, OperatorTest.cli("scale", "+1", Long.toString(cluster.process().pid())).code());
            assertEquals(five, slots(cluster, port, sources), "scaled to 5, too");
        }
        try (Cluster cluster = Cluster.withAgent("workers=5", HttpServerApp.class, "0")) {
            int port = cluster.awaitPort(5);
            assertEquals(five, slots(cluster, port, sources), "a master started with 5 maps as one scaled to 5");
        }
    }

    /** 16 -> 17, measured for the README: about 1/17 of the clients move, all to the new worker. */
    @Test
    void sixteenToSeventeenMovesASeventeenth() throws Exception {
        List<InetAddress> sources = Clients.ipv4(CLIENTS);
        try (Cluster cluster = Cluster.withAgent("workers=16", HttpServerApp.class, "0")) {
            int port = cluster.awaitPort(16);
            Map<InetAddress, Integer> sixteen = slots(cluster, port, sources);
            assertEquals(0, OperatorTest.cli("scale", "17", Long.toString(cluster.process().pid())).code());
            Map<InetAddress, Integer> seventeen = slots(cluster, port, sources);
            long moved = sources.stream().filter(s -> !sixteen.get(s).equals(seventeen.get(s))).count();
            assertTrue(sources.stream().filter(s -> !sixteen.get(s).equals(seventeen.get(s)))
                    .allMatch(s -> seventeen.get(s) == 17), "every client that moved went to worker 17");
            // 300/17 is 17.6, standard deviation about 4.
            assertTrue(moved > 17.6 - 4 * 4 && moved < 17.6 + 4 * 4, moved + " moved at 16 -> 17");
            System.out.printf("scaling 16 -> 17 moved %d of %d clients (%.1f%%), every one to worker 17%n", moved, CLIENTS,
                    100.0 * moved / CLIENTS);
        }
    }

    @EachDispatch
    void scalingUpAndDownUnderLoadFailsNoRequest(String dispatch) throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=2,dispatch=" + dispatch, HttpServerApp.class, "0")) {
            int port = cluster.awaitPort(2);
            String pid = Long.toString(cluster.process().pid());
            List<InetAddress> sources = Clients.ipv4(24);
            try (Load load = new Load(port, sources.subList(0, 16), sources.subList(16, 24))) {
                UpgradeTest.awaitRequests(load, 200);
                for (String step : List.of("+1", "+1", "-1", "-1")) {
                    long before = load.requests();
                    OperatorTest.Run scaled = OperatorTest.cli("scale", step, pid);
                    assertEquals(0, scaled.code(), scaled.output());
                    UpgradeTest.awaitRequests(load, load.requests() + 100);
                    System.out.printf("scale %s (dispatch=%s): %s, %d requests during it%n", step, dispatch,
                            scaled.output().trim(), load.requests() - before);
                }
                load.close();
                assertEquals(List.of(), load.failures());
            }
            MasterStatus status = cluster.awaitServing(2);
            assertEquals(2, status.workersAsked());
        }
    }

    @Test
    void signalsAndJmxChangeTheCountAndStatusSaysIt() throws Exception {
        try (Cluster cluster = Cluster.withAgent("workers=1", HttpServerApp.class, "0")) {
            int port = cluster.awaitPort(1);
            cluster.signal("TTIN");
            MasterStatus grown = cluster.awaitServing(2);
            assertEquals(2, grown.workersAsked());
            assertEquals(2, grown.workersServing());
            assertTrue(slots(cluster, port, Clients.ipv4(32)).containsValue(2), "worker 2 serves clients");
            cluster.signal("TTOU");
            assertEquals(1, cluster.awaitServing(1).workersAsked());
            cluster.signal("TTOU");
            cluster.signal("TTIN");
            assertEquals(2, cluster.awaitServing(2).workersAsked(), "never below 1: 1, then 2");

            VirtualMachine vm = VirtualMachine.attach(Long.toString(cluster.process().pid()));
            try (JMXConnector jmx = JMXConnectorFactory.connect(new JMXServiceURL(vm.startLocalManagementAgent()))) {
                var beans = jmx.getMBeanServerConnection();
                ObjectName clusterBean = new ObjectName("dev.sticky:type=Cluster");
                assertEquals("serving with 3 workers", beans.invoke(clusterBean, "scale", new Object[] {3},
                        new String[] {"int"}));
                assertEquals(3, beans.getAttribute(clusterBean, "Workers"));
                assertEquals(3, beans.getAttribute(clusterBean, "WorkersAsked"));
                assertEquals(cluster.status().worker(3).pid(),
                        beans.getAttribute(new ObjectName("dev.sticky:type=Worker,id=3"), "Pid"));
                assertEquals("scale refused: a count of workers is from 1 to 256", beans.invoke(clusterBean, "scale",
                        new Object[] {0}, new String[] {"int"}));
            } finally {
                vm.detach();
            }
            OperatorTest.Run refused = OperatorTest.cli("scale", "300", Long.toString(cluster.process().pid()));
            assertEquals(new OperatorTest.Run(1, "scale refused: a count of workers is from 1 to 256\n"), refused);
            // Not "scale PID": a PID of up to three digits (a young container's) reads as a count.
            assertEquals(2, OperatorTest.cli("scale").code(), "no count");
        }
    }

    @Test
    void aRollingRestartAndAnUpgradeKeepTheScaledCountAndEveryClientsWorker() throws Exception {
        List<InetAddress> sources = Clients.ipv4(64);
        try (Cluster cluster = Cluster.withAgent("workers=2", HttpServerApp.class, "0")) {
            int port = cluster.awaitPort(2);
            String pid = Long.toString(cluster.process().pid());
            assertEquals(0, OperatorTest.cli("scale", "3", pid).code());
            Map<InetAddress, Integer> three = slots(cluster, port, sources);
            assertEquals(null, cluster.reloadAndWait());
            MasterStatus reloaded = cluster.awaitServing(3);
            assertEquals(3, reloaded.workersAsked());
            assertEquals(List.of(2, 2, 2), reloaded.workers().stream().map(MasterStatus.Worker::generation).toList());
            assertEquals(three, slots(cluster, port, sources), "a rolling restart moves nobody");
            OperatorTest.Run upgrade = OperatorTest.cli("upgrade", pid);
            assertEquals(0, upgrade.code(), upgrade.output());
            long newMaster = cluster.tookOverBy(upgrade.output());
            MasterStatus upgraded = MasterStatus.await(newMaster, MasterStatus.serving(3), Cluster.START);
            assertEquals(3, upgraded.workersAsked(), "the new master runs the scaled count, not workers=2");
            assertEquals(three, slots(newMaster, port, sources), "nor does an upgrade");
        }
    }

    /** Which worker (by id) serves each source, one new connection each. */
    private static Map<InetAddress, Integer> slots(Cluster cluster, int port, List<InetAddress> sources)
            throws Exception {
        return slots(cluster.status(), port, sources);
    }

    private static Map<InetAddress, Integer> slots(long master, int port, List<InetAddress> sources) throws Exception {
        return slots(MasterStatus.of(master), port, sources);
    }

    private static Map<InetAddress, Integer> slots(MasterStatus status, int port, List<InetAddress> sources)
            throws Exception {
        Map<Long, Integer> ids = new LinkedHashMap<>();
        status.workers().forEach(w -> ids.put(w.pid(), w.id()));
        Map<InetAddress, Integer> slots = new LinkedHashMap<>();
        for (InetAddress source : sources) {
            long pid = Long.parseLong(Clients.field(Clients.http(source, port), "pid"));
            Integer id = ids.get(pid);
            assertTrue(id != null, source + " was served by " + pid + ", no worker of " + ids);
            slots.put(source, id);
        }
        return slots;
    }
}
