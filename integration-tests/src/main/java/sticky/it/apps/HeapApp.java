package sticky.it.apps;

/** Prints "heap N" (Runtime.maxMemory()), then serves {@link Reply#line} on a JDK HttpServer. Args: port. */
public final class HeapApp {
    public static void main(String[] args) throws Exception {
        System.out.println("heap " + Runtime.getRuntime().maxMemory());
        Reply.listening(HttpServerApp.start(Integer.parseInt(args[0])).getAddress().getPort());
    }
}
