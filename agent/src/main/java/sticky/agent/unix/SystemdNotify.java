package sticky.agent.unix;

import java.nio.charset.StandardCharsets;

/**
 * sd_notify(3) without libsystemd: one datagram of "KEY=value" lines to the
 * Unix socket systemd names in NOTIFY_SOCKET (a path, or "@name" in the
 * abstract namespace), for a Type=notify service. The JDK cannot send Unix
 * datagrams (JDK 17; stream sockets only), hence JNA.
 */
public final class SystemdNotify {
    private final byte[] address;
    private final int fd;

    private SystemdNotify(byte[] address, int fd) {
        this.address = address;
        this.fd = fd;
    }

    /** The notifier NOTIFY_SOCKET names, or null when it is not set (not under systemd, or not Type=notify). */
    public static SystemdNotify fromEnvironment() {
        String socket = System.getenv("NOTIFY_SOCKET");
        if (socket == null || socket.isEmpty() || !(socket.startsWith("/") || socket.startsWith("@"))) {
            return null;
        }
        byte[] path = socket.getBytes(StandardCharsets.UTF_8);
        if (path.length > 107) {
            return null; // longer than sun_path
        }
        byte[] address = new byte[2 + path.length + (socket.startsWith("@") ? 0 : 1)];
        address[0] = (byte) Libc.AF_UNIX; // sa_family_t, little-endian on x86_64 and aarch64
        System.arraycopy(path, 0, address, 2, path.length);
        if (socket.startsWith("@")) {
            address[2] = 0; // the abstract namespace: a leading NUL, no trailing one
        }
        int fd = Libc.socket(Libc.AF_UNIX, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
        return fd < 0 ? null : new SystemdNotify(address, fd);
    }

    /** Sends the state lines; false if systemd did not take them (they are advisory: nothing else depends on it). */
    public boolean send(String state) {
        byte[] bytes = state.getBytes(StandardCharsets.UTF_8);
        return Libc.sendto(fd, bytes, bytes.length, Libc.MSG_NOSIGNAL, address, address.length) == bytes.length;
    }
}
