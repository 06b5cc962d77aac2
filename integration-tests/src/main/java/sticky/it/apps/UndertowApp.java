package sticky.it.apps;

import io.undertow.Handlers;
import io.undertow.Undertow;
import io.undertow.util.Headers;
import io.undertow.websockets.core.AbstractReceiveListener;
import io.undertow.websockets.core.BufferedTextMessage;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.core.WebSockets;
import java.net.InetSocketAddress;

/**
 * Undertow 2.3 (XNIO) answering every request with {@link Reply#line}, and
 * echoing WebSocket text messages on /ws as "{@link Reply#line} echo=TEXT".
 * Args: port.
 */
public final class UndertowApp {
    public static void main(String[] args) {
        Undertow server = Undertow.builder().addHttpListener(Integer.parseInt(args[0]), "0.0.0.0").setHandler(
                Handlers.path(exchange -> {
                    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain");
                    exchange.getResponseSender().send(Reply.line(exchange.getSourceAddress(), 0));
                }).addPrefixPath("/ws", Handlers.websocket((exchange, channel) -> {
                    channel.getReceiveSetter().set(new AbstractReceiveListener() {
                        @Override
                        protected void onFullTextMessage(WebSocketChannel ws, BufferedTextMessage message) {
                            WebSockets.sendText(Reply.line(ws.getSourceAddress(), 0).trim() + " echo=" + message.getData(),
                                    ws, null);
                        }
                    });
                    channel.resumeReceives();
                }))).build();
        server.start();
        Reply.listening(((InetSocketAddress) server.getListenerInfo().get(0).getAddress()).getPort());
    }
}
