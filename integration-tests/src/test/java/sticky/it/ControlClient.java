package sticky.it;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A stranger on a master's control socket (a Unix SOCK_SEQPACKET socket, which
 * the JDK cannot open): sends what it is told, descriptors included, and
 * reports whether the master hung up, through {@link TestLibc}.
 */
final class ControlClient implements AutoCloseable {

    private final int fd;

    ControlClient(Path path) throws IOException {
        fd = TestLibc.socket(1, 5, 0); // AF_UNIX, SOCK_SEQPACKET
        byte[] addr = TestLibc.unixAddress(path.toString());
        if (fd < 0 || TestLibc.connect(fd, addr, addr.length) < 0) {
            throw new IOException("cannot connect to " + path + ": errno " + Native.getLastError());
        }
    }

    void send(byte[] message) throws IOException {
        if (!sendUnlessHungUp(message)) {
            throw new IOException("send: errno 32 (EPIPE)");
        }
    }

    /** Sends message; false if the master had already closed the connection (EPIPE). */
    boolean sendUnlessHungUp(byte[] message) throws IOException {
        if (TestLibc.send(fd, message, message.length, 0x4000) < 0) { // MSG_NOSIGNAL
            int errno = Native.getLastError();
            if (errno == 32) {
                return false;
            }
            throw new IOException("send: errno " + errno);
        }
        return true;
    }

    /** Sends message with both ends of a new pipe attached (SCM_RIGHTS); closes our copies. */
    void sendWithDescriptors(byte[] message) throws IOException {
        int[] pipe = new int[2];
        TestLibc.pipe(pipe);
        try (Memory msg = new Memory(56); Memory iov = new Memory(16); Memory data = new Memory(message.length);
                Memory control = new Memory(24)) {
            data.write(0, message, 0, message.length);
            iov.setPointer(0, data);
            iov.setLong(8, message.length);
            control.setLong(0, 24); // CMSG_LEN(2 * 4)
            control.setInt(8, 1); // SOL_SOCKET
            control.setInt(12, 1); // SCM_RIGHTS
            control.setInt(16, pipe[0]);
            control.setInt(20, pipe[1]);
            msg.clear();
            msg.setPointer(16, iov);
            msg.setLong(24, 1);
            msg.setPointer(32, control);
            msg.setLong(40, 24);
            if (TestLibc.sendmsg(fd, msg, 0x4000) < 0) {
                throw new IOException("sendmsg: errno " + Native.getLastError());
            }
        } finally {
            TestLibc.close(pipe[0]);
            TestLibc.close(pipe[1]);
        }
    }

    /**
     * Whether the master closes the connection within seconds, without
     * answering anything: end of stream, or a reset when it closed without
     * reading what was sent.
     */
    boolean hungUpWithin(int seconds) {
        byte[] message = receiveWithin(seconds);
        return message != null && message.length == 0;
    }

    /** The next message within seconds; empty when the master hung up, null on a timeout or another error. */
    byte[] receiveWithin(int seconds) {
        try (Memory timeval = new Memory(16)) {
            timeval.setLong(0, seconds);
            timeval.setLong(8, 0);
            TestLibc.setsockopt(fd, 1, 20, timeval, 16); // SO_RCVTIMEO
        }
        byte[] buffer = new byte[4096];
        long n = TestLibc.recv(fd, buffer, buffer.length, 0);
        if (n == 0 || (n < 0 && Native.getLastError() == 104)) { // ECONNRESET
            return new byte[0];
        }
        return n < 0 ? null : java.util.Arrays.copyOf(buffer, (int) n);
    }

    @Override
    public void close() {
        TestLibc.close(fd);
    }
}
