package sticky.it.spring;

import jakarta.servlet.http.HttpServletRequest;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.web.context.WebServerInitializedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * A plain Spring Boot web app (embedded Tomcat): answers GET / with
 * "pid=P peer=CLIENT rcvbuf=0", like the other sample apps, and prints
 * "listening PORT" once its server is up.
 */
@SpringBootApplication
@RestController
public class Application {
    public static void main(String[] args) {
        SpringApplication.run(Application.class, args);
    }

    @GetMapping("/")
    String reply(HttpServletRequest request) {
        return "pid=" + ProcessHandle.current().pid() + " peer=" + request.getRemoteAddr() + " rcvbuf=0\n";
    }

    @EventListener
    void started(WebServerInitializedEvent event) {
        System.out.println("listening " + event.getWebServer().getPort());
    }
}
