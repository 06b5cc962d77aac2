package sticky.it.apps;

import com.sun.net.httpserver.HttpServer;

/**
 * An application with a port for its clients and one for management (as
 * Spring Boot's management.server.port or a Prometheus exporter): both JDK
 * HttpServers answering {@link Reply#line}. Prints "private PORT" with the
 * management server's port as bound. Args: port, management port.
 */
public final class PrivatePortApp {
    public static void main(String[] args) throws Exception {
        HttpServer app = HttpServerApp.start(Integer.parseInt(args[0]));
        HttpServer management = HttpServerApp.start(Integer.parseInt(args[1]));
        System.out.println("private " + management.getAddress().getPort());
        Reply.listening(app.getAddress().getPort());
    }
}
