package sticky.agent.master.ops;

import java.util.function.Supplier;
import sticky.agent.master.lifecycle.LifecycleListener;
import sticky.agent.unix.SystemdNotify;

/**
 * The lifecycle's states as systemd's Type=notify wants them: READY=1 once
 * every worker serves its listeners, RELOADING=1 with MONOTONIC_USEC at a
 * rolling restart and READY=1 at its end, STOPPING=1 at a stop, and STATUS=
 * lines. MONOTONIC_USEC is CLOCK_MONOTONIC, which System.nanoTime reads on
 * Linux (HotSpot's os::javaTimeNanos, JDK 17 and 25). In a master an upgrade
 * started, the old master is the service's main process until the take-over:
 * READY=1 then comes with MAINPID= ({@link #tookOver}), not when its own
 * workers first serve.
 */
public final class SystemdNotifier implements LifecycleListener {
    private final SystemdNotify notify;
    private final Supplier<String> serving;
    /** An upgrade's new master, before it took over. On the master's loop. */
    private boolean beforeTakeOver;

    /** serving: the STATUS= text once every worker serves ("2 workers serving on [::]:8080"). */
    public SystemdNotifier(SystemdNotify notify, Supplier<String> serving, boolean takingOver) {
        this.notify = notify;
        this.serving = serving;
        this.beforeTakeOver = takingOver;
    }

    @Override
    public void allServing() {
        if (!beforeTakeOver) {
            notify.send(readyMessage());
        }
    }

    /**
     * Upgrade: this master took the service over. NotifyAccess=all lets a
     * process other than the main one say MAINPID=, which makes it the main one.
     */
    public void tookOver() {
        beforeTakeOver = false;
        notify.send("MAINPID=" + ProcessHandle.current().pid() + "\n" + readyMessage());
    }

    private String readyMessage() {
        return "READY=1\nSTATUS=" + serving.get();
    }

    @Override
    public void reloading(int workers) {
        notify.send("RELOADING=1\nMONOTONIC_USEC=" + System.nanoTime() / 1000 + "\nSTATUS=rolling restart of " + workers
                + " workers");
    }

    @Override
    public void stopping() {
        notify.send("STOPPING=1\nSTATUS=stopping");
    }

    @Override
    public void status(String text) {
        notify.send("STATUS=" + text);
    }
}
