package sticky.agent.common;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The messages between master and workers, one per seqpacket. As in Node's
 * cluster: a worker's bind is a request to the master, answered with the
 * bound address or the bind error. The answer carries the worker's end of a
 * socket pair, which becomes the server socket's descriptor: the master sends
 * the accepted sockets on the other end, a {@link Handoff} with each. When
 * the kernel dispatches, it carries the listening socket of the worker's slot
 * instead, which the worker accepts from itself. The request's connection stays open, carrying nothing more: its end tells the
 * master that the server socket was closed or the worker died.
 *
 * <p>The first message of every connection, a worker's {@link Hello} or a new
 * master's {@link MasterHello}, begins with its type and the sender's protocol
 * version ({@link Version#protocol}), and every version of sticky reads that
 * much: a master and a worker of different versions, or two masters, refuse
 * each other with {@link Refused} and a message that says why, instead of
 * misreading each other. Protocol 1 (sticky before versions) sent 'H' with no
 * version; it decodes as a Hello of version 1.
 *
 * <pre>
 * Hello       'W' version:int worker:int secret:str pid:long   worker to master, once, on its own connection
 * Ready       'R'                                       master to worker
 * Refused     'N' version:int message:str               to a hello of a version the receiver cannot speak
 * BindRequest 'B' worker:int secret:str family:byte address:addr port:int index:int receiveBuffer:int reusePort:byte
 *                 datagram:byte path:str
 * BindOk      'O' address:addr port:int direct:byte    with the worker's end of the handoff socket pair,
 *                                                       or (direct) its slot's listening socket
 * BindError   'E' bindException:byte message:str
 * Handoff     'C' address:addr port:short              with one accepted socket, master to worker
 *
 * Upgrade, new master to the old one on its control socket (see master.Upgrade):
 * MasterHello 'M' version:int oldest:int secret:str pid:long slots:int
 *                                                       oldest: the oldest protocol it takes sockets from
 * Handed      'S' kind:byte request:(family .. path as in BindRequest) home:int
 *                                                       old to new, with one listening socket: kind 0 a socket of a
 *                                                       kernel-dispatched group (in the group's order; home: the slot
 *                                                       it is the new master's for, or -1), 1 the master-dispatched
 *                                                       listening socket, 2 a Unix-domain listening socket
 * HandedAll   'A' count:int slots:short generation:int...  old to new: every socket sent; each slot's generation
 *                                                       (the new master's first process is the next, so that
 *                                                       its JDWP and JMX ports are not the running one's)
 * TakeOver    'T'                                       new to old: my workers serve
 * Frozen      'F' count:short pid:long...               old to new: mine accept nothing new; these are my processes
 * Done        'D'                                       new to old: I serve (and told systemd MAINPID)
 * str = length:short UTF-8 bytes; addr = length:byte (4 or 16) bytes
 * </pre>
 */
public final class Protocol {
    private Protocol() {}

    public sealed interface Message permits Hello, Ready, Refused, BindRequest, BindOk, BindError, Handoff,
            MasterHello, Handed, HandedAll, TakeOver, Frozen, Done {}

    /** version: the worker's protocol; 1 for a worker of sticky before versions. */
    public record Hello(int version, int worker, String secret, long pid) implements Message {}

    public record Ready() implements Message {}

    /** The receiver speaks protocol version and cannot speak the sender's: message says what to do. */
    public record Refused(int version, String message) implements Message {}

    /** A new master, started by an upgrade, asks the old one for its sockets; slots: its worker count. */
    public record MasterHello(int version, int oldest, String secret, long pid, int slots) implements Message {}

    /** Handed's kinds. */
    public static final int KERNEL = 0, MASTER = 1, UNIX_SOCKET = 2;

    /** One listening socket of the old master's, and the bind it was opened for (worker and secret unused). */
    public record Handed(int kind, BindRequest request, int home) implements Message {}

    public record HandedAll(int count, java.util.List<Integer> generations) implements Message {}

    public record TakeOver() implements Message {}

    public record Frozen(java.util.List<Long> pids) implements Message {}

    public record Done() implements Message {}

    /**
     * family is 4 or 6, the family of the socket the application created, or
     * {@link #UNIX}: a Unix-domain server socket's bind at path (address
     * 0.0.0.0 and port 0, unused; path is empty for the others). index counts
     * the worker's open binds of the same address and port, so that its n-th
     * bind of port 0 shares the n-th ephemeral port of the others.
     * receiveBuffer is SO_RCVBUF as set before bind, or 0. reusePort: the
     * application set SO_REUSEPORT, so that several sockets may bind the
     * port. datagram: a UDP socket's bind, not a TCP server socket's.
     */
    public record BindRequest(int worker, String secret, int family, InetAddress address, int port, int index,
            int receiveBuffer, boolean reusePort, boolean datagram, String path) implements Message {}

    /** BindRequest's family of a Unix-domain socket. */
    public static final int UNIX = 0;

    /** direct: the socket that comes with it is a listening socket to accept from, not a handoff socket. */
    public record BindOk(InetSocketAddress bound, boolean direct) implements Message {}

    public record BindError(boolean bindException, String message) implements Message {}

    /** An accepted socket's TCP peer; the socket itself travels with the message. */
    public record Handoff(InetSocketAddress peer) implements Message {}

    public static final class ProtocolException extends IOException {
        ProtocolException(String message) {
            super(message);
        }
    }

    private static final int MAX_STRING = 1024;
    /** The longest message: a Frozen of 512 processes (a rolling restart of 256 workers). */
    public static final int MAX_MESSAGE = 8192;

    public static byte[] encode(Message message) {
        ByteBuffer b = ByteBuffer.allocate(MAX_MESSAGE);
        if (message instanceof Hello h) {
            b.put((byte) 'W').putInt(h.version()).putInt(h.worker());
            putString(b, h.secret());
            b.putLong(h.pid());
        } else if (message instanceof Ready) {
            b.put((byte) 'R');
        } else if (message instanceof Refused r) {
            b.put((byte) 'N').putInt(r.version());
            putString(b, r.message());
        } else if (message instanceof BindRequest r) {
            b.put((byte) 'B').putInt(r.worker());
            putString(b, r.secret());
            putBind(b, r);
        } else if (message instanceof MasterHello h) {
            b.put((byte) 'M').putInt(h.version()).putInt(h.oldest());
            putString(b, h.secret());
            b.putLong(h.pid()).putInt(h.slots());
        } else if (message instanceof Handed h) {
            b.put((byte) 'S').put((byte) h.kind());
            putBind(b, h.request());
            b.putInt(h.home());
        } else if (message instanceof HandedAll a) {
            b.put((byte) 'A').putInt(a.count()).putShort((short) a.generations().size());
            a.generations().forEach(b::putInt);
        } else if (message instanceof TakeOver) {
            b.put((byte) 'T');
        } else if (message instanceof Frozen f) {
            b.put((byte) 'F').putShort((short) f.pids().size());
            f.pids().forEach(b::putLong);
        } else if (message instanceof Done) {
            b.put((byte) 'D');
        } else if (message instanceof BindOk ok) {
            b.put((byte) 'O');
            putAddress(b, ok.bound().getAddress().getAddress());
            b.putInt(ok.bound().getPort()).put((byte) (ok.direct() ? 1 : 0));
        } else if (message instanceof BindError e) {
            b.put((byte) 'E').put((byte) (e.bindException() ? 1 : 0));
            putString(b, e.message());
        } else if (message instanceof Handoff c) {
            return handoff(c.peer().getAddress().getAddress(), c.peer().getPort());
        }
        byte[] bytes = new byte[b.position()];
        b.flip().get(bytes);
        return bytes;
    }

    /** The longest Handoff: an IPv6 peer. */
    public static final int MAX_HANDOFF = 1 + 1 + 16 + 2;

    /** A Handoff from raw address bytes (4 or 16). */
    public static byte[] handoff(byte[] address, int port) {
        byte[] message = new byte[MAX_HANDOFF];
        return java.util.Arrays.copyOf(message, handoff(address, address.length, port, message));
    }

    /**
     * Writes a Handoff for the first length (4 or 16) bytes of address into
     * into (MAX_HANDOFF bytes at least) and returns its length: the master's
     * accept loop does this once per connection, without allocating.
     */
    public static int handoff(byte[] address, int length, int port, byte[] into) {
        into[0] = 'C';
        into[1] = (byte) length;
        System.arraycopy(address, 0, into, 2, length);
        into[2 + length] = (byte) (port >>> 8);
        into[3 + length] = (byte) port;
        return 4 + length;
    }

    public static Message decode(byte[] bytes) throws ProtocolException {
        if (bytes == null || bytes.length == 0) {
            throw new ProtocolException("empty message");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        try {
            byte type = b.get();
            Message m = switch (type) {
                case 'H' -> new Hello(1, b.getInt(), getString(b), b.getLong()); // protocol 1's, unversioned
                case 'W' -> new Hello(b.getInt(), b.getInt(), getString(b), b.getLong());
                case 'R' -> new Ready();
                case 'N' -> new Refused(b.getInt(), getString(b));
                case 'B' -> getBind(b, b.getInt(), getString(b));
                case 'M' -> new MasterHello(b.getInt(), b.getInt(), getString(b), b.getLong(),
                        nonNegative(b.getInt(), "slots"));
                case 'S' -> new Handed(kind(b.get()), getBind(b, 0, ""), b.getInt());
                case 'A' -> new HandedAll(nonNegative(b.getInt(), "count"), getList(b, ByteBuffer::getInt));
                case 'T' -> new TakeOver();
                case 'F' -> new Frozen(getList(b, ByteBuffer::getLong));
                case 'D' -> new Done();
                case 'O' -> new BindOk(new InetSocketAddress(getAddress(b), port(b.getInt())), b.get() != 0);
                case 'E' -> new BindError(b.get() != 0, getString(b));
                case 'C' -> new Handoff(new InetSocketAddress(getAddress(b), Short.toUnsignedInt(b.getShort())));
                default -> throw new ProtocolException("unknown message type " + (type & 0xff));
            };
            if (b.hasRemaining()) {
                throw new ProtocolException("trailing bytes after message '" + (char) type + "'");
            }
            return m;
        } catch (BufferUnderflowException e) {
            throw new ProtocolException("truncated message");
        }
    }

    private static void putBind(ByteBuffer b, BindRequest r) {
        b.put((byte) r.family());
        putAddress(b, r.address().getAddress());
        b.putInt(r.port()).putInt(r.index()).putInt(r.receiveBuffer()).put((byte) (r.reusePort() ? 1 : 0))
                .put((byte) (r.datagram() ? 1 : 0));
        putString(b, r.path());
    }

    private static BindRequest getBind(ByteBuffer b, int worker, String secret) throws ProtocolException {
        return new BindRequest(worker, secret, family(b.get()), getAddress(b), port(b.getInt()),
                nonNegative(b.getInt(), "index"), nonNegative(b.getInt(), "receive buffer"), b.get() != 0,
                b.get() != 0, getString(b));
    }

    /** count:short, then count items. */
    private static <T> java.util.List<T> getList(ByteBuffer b, java.util.function.Function<ByteBuffer, T> item) {
        int count = Short.toUnsignedInt(b.getShort());
        java.util.List<T> values = new java.util.ArrayList<>();
        for (int i = 0; i < count; i++) {
            values.add(item.apply(b));
        }
        return values;
    }


    private static int kind(byte kind) throws ProtocolException {
        if (kind != KERNEL && kind != MASTER && kind != UNIX_SOCKET) {
            throw new ProtocolException("bad socket kind " + kind);
        }
        return kind;
    }

    private static void putString(ByteBuffer b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        int length = Math.min(bytes.length, MAX_STRING);
        b.putShort((short) length).put(bytes, 0, length);
    }

    private static String getString(ByteBuffer b) throws ProtocolException {
        int length = Short.toUnsignedInt(b.getShort());
        if (length > MAX_STRING) {
            throw new ProtocolException("string too long: " + length);
        }
        byte[] bytes = new byte[length];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static void putAddress(ByteBuffer b, byte[] address) {
        b.put((byte) address.length).put(address);
    }

    private static InetAddress getAddress(ByteBuffer b) throws ProtocolException {
        int length = b.get();
        if (length != 4 && length != 16) {
            throw new ProtocolException("bad address length " + length);
        }
        byte[] bytes = new byte[length];
        b.get(bytes);
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new ProtocolException("bad address");
        }
    }

    private static int family(byte family) throws ProtocolException {
        if (family != 4 && family != 6 && family != UNIX) {
            throw new ProtocolException("bad family " + family);
        }
        return family;
    }

    private static int port(int port) throws ProtocolException {
        if (port < 0 || port > 0xffff) {
            throw new ProtocolException("bad port " + port);
        }
        return port;
    }

    private static int nonNegative(int value, String what) throws ProtocolException {
        if (value < 0) {
            throw new ProtocolException("bad " + what + " " + value);
        }
        return value;
    }
}
