package sticky.it.apps;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import jakarta.websocket.HandshakeResponse;
import jakarta.websocket.server.HandshakeRequest;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerContainer;
import jakarta.websocket.server.ServerEndpointConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;
import org.apache.tomcat.websocket.server.WsSci;

/**
 * Embedded Tomcat 11 with one servlet answering {@link Reply#line}, and a
 * Jakarta WebSocket endpoint on /ws echoing "{@link Reply#line} echo=TEXT".
 * Args: port.
 */
public final class TomcatApp {
    /**
     * The WebSocket endpoint. Jakarta WebSocket tells an endpoint nothing of
     * its peer, so the handshake's HTTP request leaves it in the HTTP session
     * (the usual way: a filter, then the configurator).
     */
    public static final class Echo extends Endpoint {
        @Override
        public void onOpen(Session session, EndpointConfig config) {
            HttpSession http = (HttpSession) session.getUserProperties().get(HttpSession.class.getName());
            InetSocketAddress peer = (InetSocketAddress) http.getAttribute("peer");
            session.addMessageHandler(String.class, (MessageHandler.Whole<String>) text ->
                    session.getAsyncRemote().sendText(Reply.line(peer, 0).trim() + " echo=" + text));
        }
    }

    public static void main(String[] args) throws Exception {
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(Files.createTempDirectory("tomcat").toString());
        tomcat.setPort(Integer.parseInt(args[0]));
        Context context = tomcat.addContext("", null);
        Tomcat.addServlet(context, "reply", new HttpServlet() {
            @Override
            protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
                response.setContentType("text/plain");
                response.getWriter().write(Reply.line(new InetSocketAddress(request.getRemoteAddr(), request.getRemotePort()), 0));
            }
        });
        context.addServletMappingDecoded("/*", "reply");
        FilterDef peerFilter = new FilterDef();
        peerFilter.setFilterName("peer");
        peerFilter.setFilter((request, response, chain) -> {
            ((HttpServletRequest) request).getSession(true).setAttribute("peer",
                    new InetSocketAddress(request.getRemoteAddr(), request.getRemotePort()));
            chain.doFilter(request, response);
        });
        context.addFilterDef(peerFilter);
        FilterMap peerMapping = new FilterMap();
        peerMapping.setFilterName("peer");
        peerMapping.addURLPattern("/ws");
        context.addFilterMap(peerMapping);
        context.addServletContainerInitializer(new WsSci(), null);
        context.addServletContainerInitializer((classes, servletContext) -> {
            ServerContainer container = (ServerContainer) servletContext.getAttribute(ServerContainer.class.getName());
            try {
                container.addEndpoint(ServerEndpointConfig.Builder.create(Echo.class, "/ws")
                        .configurator(new ServerEndpointConfig.Configurator() {
                            @Override
                            public void modifyHandshake(ServerEndpointConfig endpoint, HandshakeRequest request,
                                    HandshakeResponse response) {
                                endpoint.getUserProperties().put(HttpSession.class.getName(), request.getHttpSession());
                            }
                        }).build());
            } catch (jakarta.websocket.DeploymentException e) {
                throw new IllegalStateException(e);
            }
        }, null);
        tomcat.getConnector();
        tomcat.start();
        Reply.listening(tomcat.getConnector().getLocalPort());
    }
}
