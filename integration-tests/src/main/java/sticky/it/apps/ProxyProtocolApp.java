package sticky.it.apps;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A server that speaks the PROXY protocol v2 itself, as servers behind
 * HAProxy's send-proxy-v2 do: it reads the header, then answers "pid=P
 * peer=CLIENT-FROM-THE-HEADER proxy=TCP-PEER". Args: port.
 */
public final class ProxyProtocolApp {
    public static void main(String[] args) throws Exception {
        ServerSocket server = new ServerSocket();
        server.bind(new InetSocketAddress(Integer.parseInt(args[0])));
        System.out.println("listening " + server.getLocalPort());
        while (true) {
            Socket client = server.accept();
            new Thread(() -> serve(client)).start();
        }
    }

    private static void serve(Socket client) {
        try (client; OutputStream out = client.getOutputStream()) {
            client.setSoTimeout(20_000);
            DataInputStream in = new DataInputStream(client.getInputStream());
            byte[] head = new byte[16];
            in.readFully(head);
            if (head[0] != 0x0D || head[11] != 0x0A || (head[12] & 0xf0) != 0x20) {
                throw new IOException("no PROXY v2 header");
            }
            byte[] rest = new byte[((head[14] & 0xff) << 8) | (head[15] & 0xff)];
            in.readFully(rest);
            int family = (head[13] & 0xf0) >> 4;
            byte[] source = java.util.Arrays.copyOfRange(rest, 0, family == 1 ? 4 : 16);
            out.write(("pid=" + ProcessHandle.current().pid() + " peer=" + InetAddress.getByAddress(source).getHostAddress()
                    + " proxy=" + client.getInetAddress().getHostAddress() + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            System.out.println("bad connection: " + e.getMessage());
        }
    }
}
