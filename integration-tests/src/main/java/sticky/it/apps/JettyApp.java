package sticky.it.apps;

import java.net.InetSocketAddress;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.api.annotations.OnWebSocketMessage;
import org.eclipse.jetty.websocket.api.annotations.WebSocket;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

/**
 * Jetty 12, its core handler API: answers every request with {@link Reply#line},
 * and echoes WebSocket text messages on /ws as "{@link Reply#line} echo=TEXT".
 * Args: port.
 */
public final class JettyApp {
    /** The WebSocket endpoint. */
    @WebSocket
    public static final class Echo {
        @OnWebSocketMessage
        public void onText(Session session, String text) {
            session.sendText(Reply.line((InetSocketAddress) session.getRemoteSocketAddress(), 0).trim() + " echo=" + text,
                    org.eclipse.jetty.websocket.api.Callback.NOOP);
        }
    }

    public static void main(String[] args) throws Exception {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setPort(Integer.parseInt(args[0]));
        server.addConnector(connector);
        WebSocketUpgradeHandler webSockets = WebSocketUpgradeHandler.from(server,
                container -> container.addMapping("/ws", (request, response, callback) -> new Echo()));
        server.setHandler(webSockets);
        webSockets.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                String line = Reply.line(new InetSocketAddress(Request.getRemoteAddr(request), Request.getRemotePort(request)), 0);
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
                Content.Sink.write(response, true, line, callback);
                return true;
            }
        });
        server.start();
        Reply.listening(connector.getLocalPort());
    }
}
