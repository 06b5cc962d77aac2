package sticky.agent.unix;

import com.sun.jna.Memory;

/**
 * What the kernel knows of a TCP socket (getsockopt TCP_INFO, struct
 * tcp_info of linux/tcp.h; the fields read here exist since Linux 4.6). On a
 * listening socket, unacked is the length of its accept queue.
 */
public record TcpInfo(int state, int unacked, int lastDataSentMs, int lastDataReceivedMs, long bytesAcked,
        long bytesReceived, int notSentBytes) {
    /** linux/tcp.h, enum tcp_state. */
    public static final int ESTABLISHED = 1;
    public static final int CLOSE_WAIT = 8;
    public static final int LISTEN = 10;
    private static final int SIZE = 160;

    /** The socket's TCP_INFO, or null (not a TCP socket, or closed). */
    public static TcpInfo of(int fd) {
        try (Memory info = new Memory(SIZE); Memory length = new Memory(4)) {
            info.clear();
            length.setInt(0, SIZE);
            if (Libc.getsockopt(fd, Libc.IPPROTO_TCP, Libc.TCP_INFO, info, length) < 0) {
                return null;
            }
            return new TcpInfo(info.getByte(0) & 0xff, info.getInt(24), info.getInt(44), info.getInt(52),
                    info.getLong(120), info.getLong(128), length.getInt(0) >= 148 ? info.getInt(144) : 0);
        }
    }

    /**
     * Whether this end has sent data the peer acknowledged (tcpi_bytes_acked,
     * Linux 4.1): a server's connection that has not, has not answered yet.
     */
    public boolean answered() {
        return bytesAcked > 0;
    }

    /**
     * The connection received data later than it last sent any (times are in
     * jiffies, so two events a few milliseconds apart may look simultaneous:
     * that is not "later").
     */
    public boolean receivedSinceSent() {
        return Integer.compareUnsigned(lastDataReceivedMs, lastDataSentMs) < 0;
    }
}
