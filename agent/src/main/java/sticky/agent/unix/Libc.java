package sticky.agent.unix;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * The few libc calls the JDK does not offer: descriptor passing, dup2, raw
 * accept. JNA direct mapping (the fastest JNA mode); errno is read with
 * {@link Native#getLastError()}. Constants and struct layouts are Linux's
 * (x86_64 and aarch64 share them).
 */
public final class Libc {
    static {
        Native.register(Libc.class, Platform.C_LIBRARY_NAME);
    }

    private Libc() {}

    public static final int AF_UNIX = 1;
    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;
    public static final int SOCK_STREAM = 1;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_SEQPACKET = 5;
    public static final int SOCK_CLOEXEC = 0x80000;
    public static final int SOCK_NONBLOCK = 0x800;
    public static final int SOL_SOCKET = 1;
    public static final int SO_TYPE = 3;
    public static final int SO_ACCEPTCONN = 30;
    public static final int SO_PEERCRED = 17;
    public static final int SO_RCVBUF = 8;
    public static final int SO_RCVTIMEO = 20;
    public static final int SO_DOMAIN = 39;
    public static final int SCM_RIGHTS = 1;
    public static final int MSG_PEEK = 0x2;
    public static final int MSG_CTRUNC = 0x8;
    public static final int MSG_DONTWAIT = 0x40;
    public static final int MSG_NOSIGNAL = 0x4000;
    public static final int MSG_CMSG_CLOEXEC = 0x40000000;
    public static final int F_GETFL = 3;
    public static final int F_SETFL = 4;
    public static final int O_NONBLOCK = 0x800;
    public static final int SHUT_RD = 0;
    public static final int SHUT_WR = 1;
    public static final int SHUT_RDWR = 2;
    public static final int IPPROTO_TCP = 6;
    public static final int TCP_INFO = 11;
    /** asm-generic/ioctls.h (x86_64 and aarch64): bytes queued to read, SIOCINQ. */
    public static final long FIONREAD = 0x541B;
    /** The common syscall table (every architecture since Linux 5.3/5.6). */
    public static final long SYS_PIDFD_OPEN = 434;
    public static final long SYS_PIDFD_GETFD = 438;
    public static final short POLLIN = 1;
    public static final short POLLOUT = 4;
    public static final int EFD_NONBLOCK = 0x800;
    public static final int EFD_CLOEXEC = 0x80000;

    /** asm-generic/signal.h: the JVM prints a thread dump and goes on. */
    public static final int SIGQUIT = 3;

    public static final int ESRCH = 3;
    public static final int EINTR = 4;
    public static final int EAGAIN = 11;
    public static final int EMFILE = 24;
    public static final int ENFILE = 23;
    public static final int EPIPE = 32;
    public static final int EBADF = 9;
    public static final int ECONNABORTED = 103;
    public static final int ENOPROTOOPT = 92;
    public static final int ECONNRESET = 104;

    public static native int socket(int domain, int type, int protocol);

    public static native int socketpair(int domain, int type, int protocol, int[] sv);

    public static native int bind(int fd, byte[] addr, int len);

    public static native int connect(int fd, byte[] addr, int len);

    public static native int listen(int fd, int backlog);

    public static native int accept4(int fd, Pointer addr, Pointer addrLen, int flags);

    public static native long send(int fd, byte[] buf, long len, int flags);

    public static native long sendto(int fd, byte[] buf, long len, int flags, byte[] addr, int addrLen);

    public static native long recv(int fd, byte[] buf, long len, int flags);

    public static native long sendmsg(int fd, Pointer msg, int flags);

    public static native long recvmsg(int fd, Pointer msg, int flags);

    public static native int dup2(int oldFd, int newFd);

    public static native int fcntl(int fd, int cmd, int arg);

    public static native int close(int fd);

    public static native int kill(int pid, int signal);

    public static native int shutdown(int fd, int how);

    public static native int getsockname(int fd, Pointer addr, Pointer len);

    public static native int getsockopt(int fd, int level, int name, Pointer value, Pointer len);

    public static native int setsockopt(int fd, int level, int name, Pointer value, int len);

    public static native int ioctl(int fd, long request, int[] arg);

    /** syscall(2) for the calls glibc 2.36 has no wrapper for; unused arguments are ignored. */
    public static native long syscall(long number, long a, long b, long c);

    public static native int poll(Pointer fds, long count, int timeoutMs);

    public static native int eventfd(int initial, int flags);

    public static native long read(int fd, byte[] buf, long len);

    public static native long write(int fd, byte[] buf, long len);

    public static native String strerror(int errno);

    public static int errno() {
        return Native.getLastError();
    }

    /** FIONREAD: bytes queued to read on fd (for UDP, the size of the next datagram); 0 on failure. */
    public static int readable(int fd) {
        int[] bytes = new int[1];
        return ioctl(fd, FIONREAD, bytes) < 0 ? 0 : bytes[0];
    }

    /** getsockopt for an int option; -1 with errno set on failure. */
    public static int getIntOption(int fd, int level, int name) {
        try (com.sun.jna.Memory value = new com.sun.jna.Memory(4); com.sun.jna.Memory len = new com.sun.jna.Memory(4)) {
            len.setInt(0, 4);
            return getsockopt(fd, level, name, value, len) < 0 ? -1 : value.getInt(0);
        }
    }
}
