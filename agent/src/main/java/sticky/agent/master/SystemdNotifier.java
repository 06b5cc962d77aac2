package sticky.agent.master;

import java.util.function.Supplier;
import sticky.agent.unix.SystemdNotify;

/**
 * The lifecycle's states as systemd's Type=notify wants them: READY=1 once
 * every worker serves its listeners (with MAINPID= after an upgrade), RELOADING=1 with MONOTONIC_USEC at a
 * rolling restart and READY=1 at its end, STOPPING=1 at a stop, and STATUS=
 * lines. MONOTONIC_USEC is CLOCK_MONOTONIC, which System.nanoTime reads on
 * Linux (HotSpot's os::javaTimeNanos, JDK 17 and 25).
 */
final class SystemdNotifier implements Notifier {
    private final SystemdNotify notify;
    private final Supplier<String> serving;

    /** serving: the STATUS= text once every worker serves ("2 workers serving on [::]:8080"). */
    SystemdNotifier(SystemdNotify notify, Supplier<String> serving) {
        this.notify = notify;
        this.serving = serving;
    }

    @Override
    public void ready() {
        notify.send(readyMessage());
    }

    /** NotifyAccess=all lets a process other than the main one say MAINPID=, which makes it the main one. */
    @Override
    public void tookOver() {
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
