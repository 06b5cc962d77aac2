package sticky.agent;

/** {@code java -jar sticky.jar}: says how sticky is used. */
public final class Cli {
    private Cli() {}

    public static void main(String[] args) {
        System.out.println("""
                sticky clusters an unmodified JVM server with sticky, IP-hash routing.
                It is a Java agent; start your server with it:

                    java -javaagent:sticky.jar=workers=4 -jar your-app.jar

                Options (comma-separated key=value):
                    workers=N|auto   worker JVMs to run (default: auto, the number of processors)
                    log=LEVEL        sticky's log level: off, error, warn, info (default), debug, trace
                    shutdown-timeout=DURATION
                                     how long workers get to stop on SIGTERM (default 30s)

                Signals to the master: SIGTERM or SIGINT stops the cluster, SIGHUP replaces
                the workers one at a time (a rolling restart).""");
        System.exit(args.length == 0 ? 0 : 2);
    }
}
