package sticky.it.apps;

import com.corundumstudio.socketio.Configuration;
import com.corundumstudio.socketio.SocketIOServer;
import java.net.InetSocketAddress;

/**
 * A Socket.IO server (netty-socketio), the case sticky-session exists for: a
 * long-polling client's handshake spans several HTTP requests, on several
 * connections, that must all reach the process holding its session. Answers
 * each "hello" event with a "reply": {@link Reply#line} and "echo=DATA".
 * Args: port.
 */
public final class SocketIoApp {
    public static void main(String[] args) {
        Configuration config = new Configuration();
        config.setHostname("0.0.0.0");
        config.setPort(Integer.parseInt(args[0]));
        SocketIOServer server = new SocketIOServer(config);
        server.addEventListener("hello", String.class, (client, data, ack) ->
                client.sendEvent("reply", Reply.line((InetSocketAddress) client.getRemoteAddress(), 0).trim() + " echo=" + data));
        server.start();
        Reply.listening(config.getPort());
    }
}
