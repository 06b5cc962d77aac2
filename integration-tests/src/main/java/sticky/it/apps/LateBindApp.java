package sticky.it.apps;

/**
 * Binds an admin port at once, and its main port a while later (as an
 * application that warms a cache first), both JDK HttpServers on ports of
 * their own choosing (0), each answering with {@link Reply#line}; no
 * graceful stop of its own. Prints "listening PORT" for each, admin first.
 * Argument: the delay in milliseconds.
 */
public final class LateBindApp {
    public static void main(String[] args) throws Exception {
        Reply.listening(HttpServerApp.start(0).getAddress().getPort());
        Thread.sleep(Long.parseLong(args[0]));
        Reply.listening(HttpServerApp.start(0).getAddress().getPort());
    }
}
