package sticky.it;

import com.sun.jna.Native;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * What systemd listens on for a Type=notify service: a Unix datagram socket
 * at a path, whose messages are kept in order (the JDK cannot receive Unix
 * datagrams on JDK 17, hence {@link TestLibc}).
 */
final class NotifySocket implements AutoCloseable {

    private final Path path;
    private final int fd;
    private final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
    private final Thread reader;

    NotifySocket(Path path) throws IOException {
        this.path = path;
        fd = TestLibc.socket(1, 2, 0); // AF_UNIX, SOCK_DGRAM
        byte[] addr = TestLibc.unixAddress(path.toString());
        if (fd < 0 || TestLibc.bind(fd, addr, addr.length) < 0) {
            throw new IOException("cannot bind " + path + ": errno " + Native.getLastError());
        }
        reader = new Thread(() -> {
            byte[] buffer = new byte[4096];
            long n;
            while ((n = TestLibc.recv(fd, buffer, buffer.length, 0)) > 0) {
                messages.add(new String(buffer, 0, (int) n, StandardCharsets.UTF_8));
            }
        }, "notify-socket");
        reader.setDaemon(true);
        reader.start();
    }

    /** The next message, waiting up to timeout. */
    String next(Duration timeout) throws InterruptedException {
        String message = messages.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (message == null) {
            throw new AssertionError("no message on " + path + " within " + timeout);
        }
        return message;
    }

    @Override
    public void close() throws IOException {
        TestLibc.shutdown(fd, 2); // wakes the reader's recv
        TestLibc.close(fd);
        Files.deleteIfExists(path);
    }
}
