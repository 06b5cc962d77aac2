package sticky.it.apps;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A plain ServerSocket server that reads the first line a client sends and
 * answers "{@link Reply#line} first=LINE" (spaces as '_'), then closes: what
 * the application sees of a connection's peer and of its first bytes.
 * Args: port.
 */
public final class FirstLineApp {
    public static void main(String[] args) throws Exception {
        ServerSocket server = new ServerSocket();
        server.bind(new InetSocketAddress(Integer.parseInt(args[0])));
        Reply.listening(server.getLocalPort());
        while (true) {
            Socket client = server.accept();
            new Thread(() -> serve(client)).start();
        }
    }

    private static void serve(Socket client) {
        try (client) {
            client.setSoTimeout(20_000);
            String first = firstLine(client.getInputStream()).replace(' ', '_');
            String line = Reply.line((InetSocketAddress) client.getRemoteSocketAddress(), 0).trim() + " first=" + first
                    + "\n";
            client.getOutputStream().write(line.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            System.out.println("bad connection: " + e.getMessage());
        }
    }

    private static String firstLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b; (b = in.read()) >= 0 && b != '\n'; ) {
            line.write(b);
        }
        return line.toString(StandardCharsets.ISO_8859_1).replace("\r", "");
    }
}
