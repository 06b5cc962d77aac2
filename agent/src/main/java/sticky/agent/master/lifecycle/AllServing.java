package sticky.agent.master.lifecycle;

import java.util.List;
import org.slf4j.Logger;
import sticky.agent.jvm.Logs;
import sticky.agent.master.listen.Routing;

/**
 * Tells the lifecycle's listeners, once, that every routed slot serves:
 * systemd's READY=1, an upgrade's take-over. In a master an upgrade started,
 * each slot's worker must also have bound every listener the old master
 * serves: taking over earlier would close a port its workers have not bound yet.
 */
final class AllServing {
    private static final Logger log = Logs.get();

    private final Table table;
    private final Routing routing;
    private final List<LifecycleListener> listeners;
    private boolean told;
    private boolean saidWaiting;

    AllServing(Table table, Routing routing, List<LifecycleListener> listeners) {
        this.table = table;
        this.routing = routing;
        this.listeners = listeners;
    }

    /** A slot began to serve: tells, if the first routed slots all serve now. */
    void check(int routed) {
        if (told || !table.allServed(routed)) {
            return;
        }
        if (table.slots.subList(0, routed).stream().allMatch(s -> s.finished || routing.bindsAdopted(s.current.pid()))) {
            told = true;
            listeners.forEach(LifecycleListener::allServing);
        } else if (!saidWaiting) {
            saidWaiting = true;
            log.info("upgrade: every worker serves; the take-over waits until each has bound every listener "
                    + "the old master serves");
        }
    }
}
