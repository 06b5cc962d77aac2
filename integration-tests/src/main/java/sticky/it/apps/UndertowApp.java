package sticky.it.apps;

import io.undertow.Undertow;
import io.undertow.util.Headers;
import java.net.InetSocketAddress;

/** Undertow 2.3 (XNIO) answering every request with {@link Reply#line}. Args: port. */
public final class UndertowApp {
    public static void main(String[] args) {
        Undertow server = Undertow.builder().addHttpListener(Integer.parseInt(args[0]), "0.0.0.0").setHandler(exchange -> {
            exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain");
            exchange.getResponseSender().send(Reply.line(exchange.getSourceAddress(), 0));
        }).build();
        server.start();
        Reply.listening(((InetSocketAddress) server.getListenerInfo().get(0).getAddress()).getPort());
    }
}
