package sticky.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** A real HAProxy or nginx from Debian's packages, run in the foreground from a config in a temp directory. */
final class ProxyProcess implements AutoCloseable {
    private final Process process;
    private final Path dir;
    final int port;

    private ProxyProcess(List<String> command, Path dir, int port) throws Exception {
        this.dir = dir;
        this.port = port;
        this.process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("output.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 1000);
                return;
            } catch (IOException notYet) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    String log = Files.readString(dir.resolve("output.log"));
                    close();
                    fail(command.get(0) + " did not start: " + log);
                }
                Thread.sleep(20);
            }
        }
    }

    /** HAProxy in TCP mode, balance source, sending PROXY v2 to each backend port. */
    static ProxyProcess haproxy(int... backends) throws Exception {
        return haproxy("send-proxy-v2", backends);
    }

    /** HAProxy in TCP mode, balance source, with sendProxy (send-proxy: v1, send-proxy-v2) to each backend port. */
    static ProxyProcess haproxy(String sendProxy, int... backends) throws Exception {
        Path dir = Files.createTempDirectory("sticky-haproxy");
        int port = JvmPortsTest.freePorts(1);
        StringBuilder config = new StringBuilder("""
                defaults
                    mode tcp
                    timeout connect 5s
                    timeout client 30s
                    timeout server 30s
                frontend front
                    bind 127.0.0.1:%d
                    default_backend hosts
                backend hosts
                    balance source
                """.formatted(port));
        for (int i = 0; i < backends.length; i++) {
            config.append("    server host").append(i).append(" 127.0.0.1:").append(backends[i]).append(" ").append(sendProxy)
                    .append("\n");
        }
        Files.writeString(dir.resolve("haproxy.cfg"), config);
        return new ProxyProcess(List.of("haproxy", "-db", "-f", dir.resolve("haproxy.cfg").toString()), dir, port);
    }

    /** nginx as an HTTP proxy, hashing the client address over the backends, adding X-Forwarded-For. */
    static ProxyProcess nginx(int... backends) throws Exception {
        Path dir = Files.createTempDirectory("sticky-nginx");
        dir.toFile().setReadable(true, false);
        dir.toFile().setExecutable(true, false);
        int port = JvmPortsTest.freePorts(1);
        StringBuilder servers = new StringBuilder();
        for (int backend : backends) {
            servers.append("        server 127.0.0.1:").append(backend).append(";\n");
        }
        String config = """
                daemon off;
                worker_processes 1;
                pid %1$s/nginx.pid;
                error_log stderr;
                events { worker_connections 512; }
                http {
                    access_log off;
                    client_body_temp_path %1$s/body;
                    proxy_temp_path %1$s/proxy;
                    fastcgi_temp_path %1$s/fastcgi;
                    uwsgi_temp_path %1$s/uwsgi;
                    scgi_temp_path %1$s/scgi;
                    upstream hosts {
                        hash $remote_addr consistent;
                %2$s    }
                    server {
                        listen 127.0.0.1:%3$d;
                        location / {
                            proxy_pass http://hosts;
                            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                        }
                    }
                }
                """.formatted(dir, servers, port);
        Files.writeString(dir.resolve("nginx.conf"), config);
        return new ProxyProcess(List.of("nginx", "-p", dir.toString(), "-c", dir.resolve("nginx.conf").toString()), dir,
                port);
    }

    @Override
    public void close() throws Exception {
        List<ProcessHandle> children = process.descendants().toList();
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
        children.forEach(ProcessHandle::destroyForcibly);
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
