package sticky.agent.master.listen;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.List;
import sticky.agent.JdkAccess;
import sticky.agent.common.Protocol.BindRequest;
import sticky.agent.unix.Libc;

/**
 * The listening sockets of a listener the kernel dispatches: one per worker
 * slot, bound to the same address and port with SO_REUSEPORT, in slot order,
 * which is their order in the kernel's reuseport group. A {@link SlotProgram}
 * attached to the group queues each new connection on its client's slot's
 * socket; each worker accepts from its slot's socket itself, so the master
 * does nothing per connection. The master keeps every socket open, so that a
 * slot's socket (its place in the group, its backlog) outlives its workers:
 * connections queued on it when its worker dies wait there for the next one.
 */
final class SlotSockets {
    /** linux/asm-generic/socket.h */
    private static final int SO_ATTACH_REUSEPORT_CBPF = 51;

    private final List<ServerSocketChannel> channels;
    private final int[] fds;
    private final InetSocketAddress local;
    private boolean closed;

    private SlotSockets(List<ServerSocketChannel> channels) throws IOException {
        this.channels = channels;
        this.fds = channels.stream().mapToInt(JdkAccess::channelFd).toArray();
        this.local = (InetSocketAddress) channels.get(0).getLocalAddress();
    }

    /** Binds one socket per slot as the application asked; the JDK's own BindException if the port is taken. */
    static SlotSockets open(BindRequest request, int slots, int backlog) throws IOException {
        if (request.port() != 0) {
            // Without this, a port held by another reuseport group of this user would be joined, not refused.
            Listener.bind(request, request.port(), false, 1).close();
        }
        List<ServerSocketChannel> channels = new ArrayList<>();
        try {
            int port = request.port();
            for (int slot = 0; slot < slots; slot++) {
                ServerSocketChannel channel = Listener.bind(request, port, true, backlog);
                channels.add(channel);
                port = ((InetSocketAddress) channel.getLocalAddress()).getPort();
            }
            return new SlotSockets(channels);
        } catch (IOException | RuntimeException e) {
            for (ServerSocketChannel channel : channels) {
                channel.close();
            }
            throw e;
        }
    }

    InetSocketAddress localAddress() {
        return local;
    }

    /** The listening socket of slot (0-based). */
    int fd(int slot) {
        return fds[slot];
    }

    /** Queues each slot's new connections on the socket of slot target[slot]. */
    synchronized void route(int[] target) throws IOException {
        if (closed) {
            return;
        }
        ByteBuffer program = SlotProgram.build(target);
        // struct sock_fprog {unsigned short len; struct sock_filter *filter;}
        try (Memory filters = new Memory(program.remaining()); Memory fprog = new Memory(2L * Native.POINTER_SIZE)) {
            filters.write(0, program.array(), 0, program.remaining());
            fprog.setShort(0, (short) (program.remaining() / SlotProgram.INSTRUCTION_SIZE));
            fprog.setPointer(Native.POINTER_SIZE, filters);
            if (Libc.setsockopt(fds[0], Libc.SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, fprog, (int) fprog.size()) < 0) {
                throw new SocketException("sticky: attaching the slot program: " + Libc.strerror(Libc.errno()));
            }
        }
    }

    /** Closes the master's copies; a socket stays open while a worker holds it. */
    synchronized void close() throws IOException {
        if (!closed) {
            closed = true;
            for (ServerSocketChannel channel : channels) {
                channel.close();
            }
        }
    }
}
