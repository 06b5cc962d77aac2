package sticky.agent.master.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sticky.agent.unix.Libc;
import sticky.agent.unix.UnixSocket;

/**
 * The control socket's accept loop, with real Unix sockets and a thread
 * factory that fails as a user at its process limit does: the loop never
 * ends on what it can survive, and silent connections get no thread.
 */
@Timeout(60)
class ControlAcceptorTest {
    private static final byte[] HELLO = "hello".getBytes(StandardCharsets.US_ASCII);

    private Path dir;
    private Path path;
    private int listenFd;
    private Thread acceptor;
    private final List<String> refusals = new CopyOnWriteArrayList<>();
    private final AtomicInteger threadsAsked = new AtomicInteger();
    private volatile int failNextThreads;

    /** Answers each served connection with what it said, then hangs up. */
    private void serve(int connection) {
        try {
            byte[] said = UnixSocket.receive(connection, new byte[64]);
            UnixSocket.send(connection, said);
        } catch (java.io.IOException e) {
            refusals.add("serve: " + e.getMessage());
        } finally {
            UnixSocket.close(connection);
        }
    }

    @BeforeEach
    void start() throws Exception {
        dir = Files.createTempDirectory("sticky-acceptor");
        path = dir.resolve("control");
        listenFd = UnixSocket.listen(path, 128);
        ThreadFactory threads = body -> {
            threadsAsked.incrementAndGet();
            if (failNextThreads > 0) {
                failNextThreads--;
                throw new OutOfMemoryError("unable to create native thread: possibly out of memory or process/resource "
                        + "limits reached");
            }
            Thread t = new Thread(body, "served");
            t.setDaemon(true);
            return t;
        };
        int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        ControlAcceptor loop = new ControlAcceptor(listenFd, uid, this::serve, threads, refusals::add, 1000);
        acceptor = new Thread(loop::run, "acceptor");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    @AfterEach
    void stop() throws Exception {
        UnixSocket.shutdown(listenFd);
        acceptor.join(5000);
        UnixSocket.close(listenFd);
        Files.deleteIfExists(path);
        Files.delete(dir);
    }

    private static byte[] ask(int client) throws Exception {
        UnixSocket.send(client, HELLO);
        UnixSocket.receiveTimeout(client, 10_000);
        return UnixSocket.receive(client, new byte[64]);
    }

    @Test
    void aThreadThatCannotBeCreatedCostsOneConnectionAndTheLoopGoesOn() throws Exception {
        failNextThreads = 2;
        for (int i = 0; i < 2; i++) {
            int client = UnixSocket.connect(path);
            assertNull(ask(client), "no thread for it: hung up on");
            UnixSocket.close(client);
        }
        int client = UnixSocket.connect(path);
        assertEquals("hello", new String(ask(client), StandardCharsets.US_ASCII), "the next one is served");
        UnixSocket.close(client);
        assertTrue(acceptor.isAlive());
        assertEquals(2, refusals.stream().filter(r -> r.contains("no thread could be created")).count(), refusals.toString());
    }

    @Test
    void aSilentConnectionGetsNoThreadAndIsHungUpOnAfterItsTime() throws Exception {
        List<Integer> silent = new ArrayList<>();
        for (int i = 0; i < ControlAcceptor.MAX_SILENT + 10; i++) {
            silent.add(UnixSocket.connect(path));
        }
        int client = UnixSocket.connect(path);
        assertEquals("hello", new String(ask(client), StandardCharsets.US_ASCII), "served while 266 say nothing");
        UnixSocket.close(client);
        assertEquals(1, threadsAsked.get(), "a thread for the one that spoke only");
        for (int i = 0; i < silent.size(); i++) {
            UnixSocket.receiveTimeout(silent.get(i), 10_000);
            assertNull(UnixSocket.receive(silent.get(i), new byte[8]), "silent connection " + i + " is hung up on");
            UnixSocket.close(silent.get(i));
        }
        // 266 silent ones and the one that spoke came through a set of 256: the 11 oldest made room, the rest timed out.
        assertEquals(11, refusals.stream().filter(r -> r.contains("it was the oldest")).count(), refusals.toString());
        assertEquals(ControlAcceptor.MAX_SILENT - 1, refusals.stream().filter(r -> r.contains("it said nothing within "
                + "1000 ms")).count(), refusals.toString());
        assertEquals(1, threadsAsked.get());
    }
}
