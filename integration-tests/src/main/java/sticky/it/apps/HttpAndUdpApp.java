package sticky.it.apps;

import com.sun.net.httpserver.HttpServer;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;

/**
 * A JDK HttpServer on port 0 that also receives UDP on a fixed port, as a
 * StatsD or syslog receiver beside a web app would: each datagram is
 * answered with {@link Reply#line} of its sender and the UDP socket's
 * receive buffer size. Args: udpPort, "socket" (java.net.DatagramSocket) or
 * "channel" (DatagramChannel), and a receive buffer size to set before bind
 * (optional).
 */
public final class HttpAndUdpApp {
    public static void main(String[] args) throws Exception {
        HttpServer http = HttpServerApp.start(0);
        int port = Integer.parseInt(args[0]);
        if (args[1].equals("socket")) {
            DatagramSocket udp = new DatagramSocket(null);
            if (args.length > 2) {
                udp.setReceiveBufferSize(Integer.parseInt(args[2]));
            }
            udp.bind(new InetSocketAddress(port));
            System.out.println("udp " + udp.getLocalPort());
            Reply.listening(http.getAddress().getPort());
            byte[] buffer = new byte[1500];
            while (true) {
                DatagramPacket in = new DatagramPacket(buffer, buffer.length);
                udp.receive(in);
                byte[] out = Reply.line((InetSocketAddress) in.getSocketAddress(), udp.getReceiveBufferSize())
                        .getBytes(StandardCharsets.UTF_8);
                udp.send(new DatagramPacket(out, out.length, in.getSocketAddress()));
            }
        }
        DatagramChannel udp = DatagramChannel.open();
        if (args.length > 2) {
            udp.setOption(StandardSocketOptions.SO_RCVBUF, Integer.parseInt(args[2]));
        }
        udp.bind(new InetSocketAddress(port));
        System.out.println("udp " + ((InetSocketAddress) udp.getLocalAddress()).getPort());
        Reply.listening(http.getAddress().getPort());
        ByteBuffer buffer = ByteBuffer.allocate(1500);
        while (true) {
            buffer.clear();
            SocketAddress from = udp.receive(buffer);
            String line = Reply.line((InetSocketAddress) from, udp.getOption(StandardSocketOptions.SO_RCVBUF));
            udp.send(ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8)), from);
        }
    }
}
