package sticky.it.apps;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * Says which version of itself is running: the text of the version.txt
 * packed beside it in its jar. Tests build that jar, run it, replace it on
 * disk and restart. Answers "pid=P peer=A version=V". Args: port.
 */
public final class VersionApp {
    public static void main(String[] args) throws Exception {
        String version;
        try (InputStream in = VersionApp.class.getResourceAsStream("/version.txt")) {
            version = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
        }
        ServerSocket server = new ServerSocket();
        server.bind(new InetSocketAddress(Integer.parseInt(args[0])));
        System.out.println("listening " + server.getLocalPort());
        while (true) {
            try (Socket client = server.accept(); OutputStream out = client.getOutputStream()) {
                out.write(("pid=" + ProcessHandle.current().pid() + " peer=" + client.getInetAddress().getHostAddress()
                        + " version=" + version + "\n").getBytes(StandardCharsets.UTF_8));
            }
        }
    }
}
