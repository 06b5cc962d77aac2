import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/** A plain JDK HttpServer that knows nothing of sticky: it says which process served you, and who you are. */
public class HelloServer {
    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 8080;
        HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
        server.createContext("/", exchange -> {
            byte[] body = ("hello " + exchange.getRemoteAddress().getAddress().getHostAddress()
                    + ", this is process " + ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        System.out.println("HelloServer listening on port " + server.getAddress().getPort());
    }
}
