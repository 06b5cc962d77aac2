package sticky.agent.worker;

import java.io.FileDescriptor;
import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.file.Path;

/**
 * The original {@code sun.nio.ch.Net} methods (and {@code UnixDomainSockets.bind}) that the hook stands in for,
 * called for every descriptor that is not a sticky one. Most are
 * package-private, hence private lookups; {@link sticky.agent.jvm.JdkAccess} has
 * opened sun.nio.ch and java.io to the agent before this class initialises.
 * Signatures checked on JDK 17.0.15 and 25.0.3 (Net.serverSocket lost its
 * boolean parameter in between).
 */
final class JdkNet {
    private JdkNet() {}

    static final int UNAVAILABLE;
    static final int INTERRUPTED;
    private static final MethodHandle SERVER_SOCKET;
    private static final MethodHandle BIND4;
    private static final MethodHandle BIND3;
    private static final MethodHandle UNIX_BIND;
    private static final MethodHandle LISTEN;
    private static final MethodHandle LOCAL_ADDRESS;
    private static final MethodHandle ACCEPT;
    private static final MethodHandle SET_OPTION3;
    private static final MethodHandle SET_OPTION4;
    private static final MethodHandle GET_OPTION2;
    private static final MethodHandle GET_OPTION3;
    private static final MethodHandle SET_FD_VAL;
    private static final VarHandle FD;

    static {
        try {
            Class<?> net = Class.forName("sun.nio.ch.Net");
            MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(net, MethodHandles.lookup());
            Class<?> fd = FileDescriptor.class;
            SERVER_SOCKET = serverSocket(net, lookup);
            BIND4 = lookup.findStatic(net, "bind",
                    MethodType.methodType(void.class, ProtocolFamily.class, fd, InetAddress.class, int.class));
            BIND3 = lookup.findStatic(net, "bind", MethodType.methodType(void.class, fd, InetAddress.class, int.class));
            LISTEN = lookup.findStatic(net, "listen", MethodType.methodType(void.class, fd, int.class));
            Class<?> unix = Class.forName("sun.nio.ch.UnixDomainSockets");
            UNIX_BIND = MethodHandles.privateLookupIn(unix, MethodHandles.lookup())
                    .findStatic(unix, "bind", MethodType.methodType(void.class, fd, Path.class));
            LOCAL_ADDRESS = lookup.findStatic(net, "localAddress", MethodType.methodType(InetSocketAddress.class, fd));
            ACCEPT = lookup.findStatic(net, "accept",
                    MethodType.methodType(int.class, fd, fd, InetSocketAddress[].class));
            SET_OPTION3 = lookup.findStatic(net, "setSocketOption",
                    MethodType.methodType(void.class, fd, SocketOption.class, Object.class));
            SET_OPTION4 = lookup.findStatic(net, "setSocketOption",
                    MethodType.methodType(void.class, fd, ProtocolFamily.class, SocketOption.class, Object.class));
            GET_OPTION2 = lookup.findStatic(net, "getSocketOption",
                    MethodType.methodType(Object.class, fd, SocketOption.class));
            GET_OPTION3 = lookup.findStatic(net, "getSocketOption",
                    MethodType.methodType(Object.class, fd, ProtocolFamily.class, SocketOption.class));
            Class<?> ioUtil = Class.forName("sun.nio.ch.IOUtil");
            SET_FD_VAL = MethodHandles.privateLookupIn(ioUtil, MethodHandles.lookup())
                    .findStatic(ioUtil, "setfdVal", MethodType.methodType(void.class, fd, int.class));
            Class<?> ioStatus = Class.forName("sun.nio.ch.IOStatus");
            UNAVAILABLE = ioStatus.getField("UNAVAILABLE").getInt(null);
            INTERRUPTED = ioStatus.getField("INTERRUPTED").getInt(null);
            FD = MethodHandles.privateLookupIn(fd, MethodHandles.lookup()).findVarHandle(fd, "fd", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static MethodHandle serverSocket(Class<?> net, MethodHandles.Lookup lookup) throws ReflectiveOperationException {
        try {
            return lookup.findStatic(net, "serverSocket", MethodType.methodType(FileDescriptor.class, boolean.class));
        } catch (NoSuchMethodException jdk25) {
            return lookup.findStatic(net, "serverSocket", MethodType.methodType(FileDescriptor.class));
        }
    }

    static int fdVal(FileDescriptor fd) {
        return (int) FD.get(fd);
    }

    static void setFdVal(FileDescriptor fd, int value) {
        try {
            SET_FD_VAL.invokeExact(fd, value);
        } catch (Throwable t) {
            throw unchecked(t);
        }
    }

    static FileDescriptor serverSocket(Object[] args) {
        try {
            return (FileDescriptor) SERVER_SOCKET.invokeWithArguments(args);
        } catch (Throwable t) {
            throw unchecked(t);
        }
    }

    static void bind(ProtocolFamily family, FileDescriptor fd, InetAddress addr, int port) throws IOException {
        try {
            if (family == null) {
                BIND3.invokeExact(fd, addr, port);
            } else {
                BIND4.invokeExact(family, fd, addr, port);
            }
        } catch (Throwable t) {
            throw io(t);
        }
    }

    /** UnixDomainSockets.bind(FileDescriptor, Path): a Unix-domain socket's bind. */
    static void bindUnix(FileDescriptor fd, Path path) throws IOException {
        try {
            UNIX_BIND.invokeExact(fd, path);
        } catch (Throwable t) {
            throw io(t);
        }
    }

    static void listen(FileDescriptor fd, int backlog) throws IOException {
        try {
            LISTEN.invokeExact(fd, backlog);
        } catch (Throwable t) {
            throw io(t);
        }
    }

    static InetSocketAddress localAddress(FileDescriptor fd) throws IOException {
        try {
            return (InetSocketAddress) LOCAL_ADDRESS.invokeExact(fd);
        } catch (Throwable t) {
            throw io(t);
        }
    }

    static int accept(FileDescriptor fd, FileDescriptor newfd, InetSocketAddress[] isaa) throws IOException {
        try {
            return (int) ACCEPT.invokeExact(fd, newfd, isaa);
        } catch (Throwable t) {
            throw io(t);
        }
    }

    static void setSocketOption(FileDescriptor fd, ProtocolFamily family, SocketOption<?> name, Object value)
            throws IOException {
        try {
            if (family == null) {
                SET_OPTION3.invokeExact(fd, name, value);
            } else {
                SET_OPTION4.invokeExact(fd, family, name, value);
            }
        } catch (Throwable t) {
            throw io(t);
        }
    }

    /**
     * The family to give Net's option methods for option on a socket of
     * family: sun.nio.ch.SocketOptionRegistry keys IP_TOS by family and the
     * SOL_SOCKET options (SO_RCVBUF, SO_REUSEADDR, SO_REUSEPORT) by Net.UNSPEC
     * only, and Net throws AssertionError("Option not found") for any other
     * pair (JDK 17 and 25). Null stands for UNSPEC, as the JDK's callers of
     * these options pass it (NioSocketImpl, ServerSocketChannelImpl).
     */
    static ProtocolFamily optionFamily(SocketOption<?> option, ProtocolFamily family) {
        return option == StandardSocketOptions.IP_TOS ? family : null;
    }

    static Object getSocketOption(FileDescriptor fd, ProtocolFamily family, SocketOption<?> name) throws IOException {
        try {
            return family == null ? (Object) GET_OPTION2.invokeExact(fd, name)
                    : (Object) GET_OPTION3.invokeExact(fd, family, name);
        } catch (Throwable t) {
            throw io(t);
        }
    }

    /** What an original threw, as the hook may throw it: IOException, unchecked, or wrapped. */
    private static IOException io(Throwable t) {
        if (t instanceof IOException e) {
            return e;
        }
        throw unchecked(t);
    }

    private static RuntimeException unchecked(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
