package sticky.agent.unix;

import com.sun.jna.Memory;

/**
 * Sends and receives one file descriptor with a small payload over a Unix
 * socket (sendmsg/recvmsg with SCM_RIGHTS). The native msghdr, iovec and
 * cmsghdr are allocated once and reused: one instance per thread, no
 * allocation per descriptor.
 *
 * <p>Layouts are Linux LP64 (x86_64, aarch64): msghdr is 56 bytes (name 0,
 * namelen 8, iov 16, iovlen 24, control 32, controllen 40, flags 48); a
 * cmsghdr carrying one int is CMSG_SPACE(4) = 24 bytes with cmsg_len =
 * CMSG_LEN(4) = 20 and the int at offset 16.
 */
public final class FdPasser {
    public static final int MAX_PAYLOAD = 256;
    private static final int CMSG_LEN = 20;
    private static final int CMSG_SPACE = 24;

    private final Memory msghdr = new Memory(56);
    private final Memory iovec = new Memory(16);
    private final Memory cmsg = new Memory(CMSG_SPACE);
    private final Memory data;
    private final int capacity;

    public FdPasser() {
        this(MAX_PAYLOAD);
    }

    /** For payloads of up to capacity bytes. */
    public FdPasser(int capacity) {
        this.capacity = capacity;
        this.data = new Memory(capacity);
        msghdr.clear();
        msghdr.setPointer(16, iovec);
        msghdr.setLong(24, 1);
        msghdr.setPointer(32, cmsg);
        iovec.setPointer(0, data);
    }

    /**
     * Sends fd with payload without blocking. Returns 0, or the errno
     * (EAGAIN when the receiver's queue is full, EPIPE when it is gone).
     */
    public int send(int socket, int fd, byte[] payload, int length) {
        if (length > capacity) {
            throw new IllegalArgumentException("payload of " + length + " bytes, more than " + capacity);
        }
        data.write(0, payload, 0, length);
        iovec.setLong(8, length);
        msghdr.setLong(40, CMSG_SPACE);
        cmsg.setLong(0, CMSG_LEN);
        cmsg.setInt(8, Libc.SOL_SOCKET);
        cmsg.setInt(12, Libc.SCM_RIGHTS);
        cmsg.setInt(16, fd);
        return Libc.sendmsg(socket, msghdr, Libc.MSG_DONTWAIT | Libc.MSG_NOSIGNAL) < 0 ? Libc.errno() : 0;
    }

    /** What one recvmsg brought. */
    public static final class Received {
        /** Bytes of payload; 0 at end of stream; negative: -errno. */
        public long length;
        /** The descriptor that came with it, or -1. */
        public int fd;
        /** True when the kernel had to drop descriptors (MSG_CTRUNC: out of fds). */
        public boolean truncated;
    }

    /**
     * One recvmsg on socket, blocking or not as the socket is. The descriptor
     * arrives close-on-exec. The payload is copied into payload.
     */
    public void receive(int socket, byte[] payload, Received into) {
        receive(socket, payload, into, 0);
    }

    /** As {@link #receive(int, byte[], Received)}, with recvmsg flags (MSG_DONTWAIT). */
    public void receive(int socket, byte[] payload, Received into, int flags) {
        iovec.setLong(8, Math.min(payload.length, capacity));
        msghdr.setLong(40, CMSG_SPACE);
        msghdr.setInt(48, 0);
        cmsg.clear();
        long n = Libc.recvmsg(socket, msghdr, Libc.MSG_CMSG_CLOEXEC | flags);
        if (n < 0) {
            into.length = -Libc.errno();
            into.fd = -1;
            into.truncated = false;
            return;
        }
        into.length = n;
        into.truncated = (msghdr.getInt(48) & Libc.MSG_CTRUNC) != 0;
        boolean hasFd = msghdr.getLong(40) >= CMSG_LEN
                && cmsg.getInt(8) == Libc.SOL_SOCKET && cmsg.getInt(12) == Libc.SCM_RIGHTS;
        into.fd = hasFd ? cmsg.getInt(16) : -1;
        if (n > 0) {
            data.read(0, payload, 0, (int) n);
        }
    }
}
