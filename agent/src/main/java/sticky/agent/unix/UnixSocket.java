package sticky.agent.unix;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A Unix-domain SOCK_SEQPACKET socket as a bare descriptor: the control
 * channel between master and workers. Seqpacket keeps message boundaries, so
 * one sendmsg is one message, its passed descriptor travelling with it; and the
 * worker can dup2 the descriptor onto a server socket's fd number.
 */
public final class UnixSocket {
    private UnixSocket() {}

    public static int listen(Path path, int backlog) throws IOException {
        int fd = check(Libc.socket(Libc.AF_UNIX, Libc.SOCK_SEQPACKET | Libc.SOCK_CLOEXEC, 0), "socket");
        byte[] addr = sockaddr(path);
        if (Libc.bind(fd, addr, addr.length) < 0 || Libc.listen(fd, 128) < 0) {
            IOException e = error("bind " + path);
            Libc.close(fd);
            throw e;
        }
        return fd;
    }

    public static int connect(Path path) throws IOException {
        int fd = check(Libc.socket(Libc.AF_UNIX, Libc.SOCK_SEQPACKET | Libc.SOCK_CLOEXEC, 0), "socket");
        byte[] addr = sockaddr(path);
        if (Libc.connect(fd, addr, addr.length) < 0) {
            IOException e = error("connect " + path);
            Libc.close(fd);
            throw e;
        }
        return fd;
    }

    /** Two connected SEQPACKET sockets, both close-on-exec. */
    public static int[] pair() throws IOException {
        int[] pair = new int[2];
        check(Libc.socketpair(Libc.AF_UNIX, Libc.SOCK_SEQPACKET | Libc.SOCK_CLOEXEC, 0, pair), "socketpair");
        return pair;
    }

    /** Blocks for the next connection; -1 once the socket is shut down. */
    public static int accept(int listenFd) throws IOException {
        while (true) {
            int fd = Libc.accept4(listenFd, null, null, Libc.SOCK_CLOEXEC);
            if (fd >= 0) {
                return fd;
            }
            int errno = Libc.errno();
            if (errno == Libc.EINTR || errno == Libc.ECONNABORTED) {
                continue;
            }
            if (errno == Libc.EMFILE || errno == Libc.ENFILE) {
                throw error("accept");
            }
            return -1;
        }
    }

    public static void send(int fd, byte[] message) throws IOException {
        if (Libc.send(fd, message, message.length, Libc.MSG_NOSIGNAL) < 0) {
            throw error("send");
        }
    }

    /**
     * Blocks for one message; null at end of stream, or when the peer reset the
     * connection (it died with messages unread). Longer messages are cut to the buffer.
     */
    public static byte[] receive(int fd, byte[] buffer) throws IOException {
        while (true) {
            long n = Libc.recv(fd, buffer, buffer.length, 0);
            if (n > 0) {
                return Arrays.copyOf(buffer, (int) n);
            }
            if (n == 0) {
                return null;
            }
            int errno = Libc.errno();
            if (errno == Libc.ECONNRESET) {
                return null;
            }
            if (errno == Libc.EAGAIN) {
                throw new IOException("nothing received in time");
            }
            if (errno != Libc.EINTR) {
                throw error("recv");
            }
        }
    }

    /** Who is at the other end: SO_PEERCRED, as the kernel recorded it at connect. */
    public record Peer(long pid, int uid) {}

    public static Peer peer(int fd) throws IOException {
        try (com.sun.jna.Memory ucred = new com.sun.jna.Memory(12); com.sun.jna.Memory len = new com.sun.jna.Memory(4)) {
            len.setInt(0, 12); // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
            if (Libc.getsockopt(fd, Libc.SOL_SOCKET, Libc.SO_PEERCRED, ucred, len) < 0) {
                throw error("getsockopt(SO_PEERCRED)");
            }
            return new Peer(ucred.getInt(0), ucred.getInt(4));
        }
    }

    /** Bounds how long a blocking receive waits (SO_RCVTIMEO); 0: for ever. */
    public static void receiveTimeout(int fd, long ms) throws IOException {
        try (com.sun.jna.Memory timeval = new com.sun.jna.Memory(16)) { // struct timeval { long sec, usec; }
            timeval.setLong(0, ms / 1000);
            timeval.setLong(8, (ms % 1000) * 1000);
            if (Libc.setsockopt(fd, Libc.SOL_SOCKET, Libc.SO_RCVTIMEO, timeval, 16) < 0) {
                throw error("setsockopt(SO_RCVTIMEO)");
            }
        }
    }

    public static void close(int fd) {
        if (fd >= 0) {
            Libc.close(fd);
        }
    }

    /** Wakes any thread blocked on fd, which then sees end of stream. */
    public static void shutdown(int fd) {
        Libc.shutdown(fd, Libc.SHUT_RDWR);
    }

    static byte[] sockaddr(Path path) throws IOException {
        byte[] name = path.toString().getBytes(StandardCharsets.UTF_8);
        if (name.length > 107) {
            throw new IOException("control socket path too long (" + name.length + " bytes): " + path);
        }
        byte[] addr = new byte[2 + name.length + 1];
        addr[0] = (byte) Libc.AF_UNIX; // sa_family_t, host byte order (little-endian here)
        System.arraycopy(name, 0, addr, 2, name.length);
        return addr;
    }

    static int check(int result, String call) throws IOException {
        if (result < 0) {
            throw error(call);
        }
        return result;
    }

    public static IOException error(String call) {
        int errno = Libc.errno();
        return new IOException(call + ": " + Libc.strerror(errno) + " (errno " + errno + ")");
    }
}
