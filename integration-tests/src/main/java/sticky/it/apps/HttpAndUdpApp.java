package sticky.it.apps;

import com.sun.net.httpserver.HttpServer;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;

/**
 * A JDK HttpServer on port 0 that also receives UDP on a fixed port, as a
 * StatsD or syslog receiver beside a web app would: each datagram is
 * answered with {@link Reply#line} of its sender. Args: udpPort, and
 * "socket" (java.net.DatagramSocket) or "channel" (DatagramChannel).
 */
public final class HttpAndUdpApp {
    public static void main(String[] args) throws Exception {
        HttpServer http = HttpServerApp.start(0);
        int port = Integer.parseInt(args[0]);
        if (args[1].equals("socket")) {
            DatagramSocket udp = new DatagramSocket(port);
            System.out.println("udp " + udp.getLocalPort());
            Reply.listening(http.getAddress().getPort());
            byte[] buffer = new byte[1500];
            while (true) {
                DatagramPacket in = new DatagramPacket(buffer, buffer.length);
                udp.receive(in);
                byte[] out = Reply.line((InetSocketAddress) in.getSocketAddress(), 0).getBytes(StandardCharsets.UTF_8);
                udp.send(new DatagramPacket(out, out.length, in.getSocketAddress()));
            }
        }
        DatagramChannel udp = DatagramChannel.open().bind(new InetSocketAddress(port));
        System.out.println("udp " + ((InetSocketAddress) udp.getLocalAddress()).getPort());
        Reply.listening(http.getAddress().getPort());
        ByteBuffer buffer = ByteBuffer.allocate(1500);
        while (true) {
            buffer.clear();
            SocketAddress from = udp.receive(buffer);
            udp.send(ByteBuffer.wrap(Reply.line((InetSocketAddress) from, 0).getBytes(StandardCharsets.UTF_8)), from);
        }
    }
}
