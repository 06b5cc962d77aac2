package sticky.it.apps;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;

/** Embedded Tomcat 11 with one servlet answering {@link Reply#line}. Args: port. */
public final class TomcatApp {
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
        tomcat.getConnector();
        tomcat.start();
        Reply.listening(tomcat.getConnector().getLocalPort());
    }
}
