package sticky.it;

import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * The libc calls the tests make where the JDK cannot (Unix SEQPACKET and
 * datagram sockets, descriptor passing): the test's own JNA (5.14), direct
 * mapping; errno through Native.getLastError(). Linux x86_64 and aarch64.
 */
final class TestLibc {
    static {
        Native.register(TestLibc.class, "c");
    }

    static final int AF_UNIX = 1;
    static final int SOCK_SEQPACKET = 5;

    private TestLibc() {}

    static native int socket(int domain, int type, int protocol);

    static native int bind(int fd, byte[] addr, int len);

    static native int connect(int fd, byte[] addr, int len);

    static native int listen(int fd, int backlog);

    static native int accept(int fd, Pointer addr, Pointer len);

    static native long send(int fd, byte[] buf, long len, int flags);

    static native long sendmsg(int fd, Pointer msg, int flags);

    static native long recv(int fd, byte[] buf, long len, int flags);

    static native int setsockopt(int fd, int level, int name, Pointer value, int len);

    static native int pipe(int[] fds);

    static native int shutdown(int fd, int how);

    static native int close(int fd);

    /** struct sockaddr_un for path: family, then the path and its NUL. */
    static byte[] unixAddress(String path) {
        byte[] name = path.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] addr = new byte[2 + name.length + 1];
        addr[0] = AF_UNIX;
        System.arraycopy(name, 0, addr, 2, name.length);
        return addr;
    }
}
