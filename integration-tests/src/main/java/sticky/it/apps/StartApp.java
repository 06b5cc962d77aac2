package sticky.it.apps;

/**
 * For bench/start: says "main cpu=MS" first thing (this process's CPU time
 * when main begins: the JVM's start, plus sticky's in a worker), then serves
 * as {@link HttpServerApp} does (the README's demo kind) and says "listening
 * PORT". Args: port.
 */
public final class StartApp {
    public static void main(String[] args) throws Exception {
        long cpu = ProcessHandle.current().info().totalCpuDuration().map(java.time.Duration::toMillis).orElse(-1L);
        System.out.println("main cpu=" + cpu);
        Reply.listening(HttpServerApp.start(Integer.parseInt(args[0])).getAddress().getPort());
    }
}
