package sticky.it.apps;

import java.net.ServerSocket;

/**
 * Checks that its port is free the way much code does (bind a ServerSocket,
 * close it), then serves on it: {@link HttpServerApp}. Args: port.
 */
public final class ProbeThenBindApp {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        try (ServerSocket probe = new ServerSocket(port)) {
            System.out.println("port " + probe.getLocalPort() + " is free");
        }
        HttpServerApp.main(args);
    }
}
