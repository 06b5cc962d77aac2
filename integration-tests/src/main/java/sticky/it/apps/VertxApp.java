package sticky.it.apps;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.net.InetSocketAddress;

/**
 * Vert.x 5 HTTP server, preferring the native transport as production setups
 * do. Answers {@link Reply#line}, and echoes WebSocket text messages as
 * "{@link Reply#line} echo=TEXT". Args: port.
 */
public final class VertxApp {
    public static void main(String[] args) {
        Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
        System.out.println("transport " + (vertx.isNativeTransportEnabled() ? "native" : "nio"));
        vertx.createHttpServer().webSocketHandler(ws -> ws.textMessageHandler(text -> ws.writeTextMessage(
                Reply.line(new InetSocketAddress(ws.remoteAddress().host(), ws.remoteAddress().port()), 0).trim()
                        + " echo=" + text))).requestHandler(request -> request.response().putHeader("content-type", "text/plain")
                .end(Reply.line(new InetSocketAddress(request.remoteAddress().host(), request.remoteAddress().port()), 0)))
                .listen(Integer.parseInt(args[0]))
                .onSuccess(server -> Reply.listening(server.actualPort()))
                .onFailure(e -> {
                    e.printStackTrace();
                    System.exit(1);
                });
    }
}
