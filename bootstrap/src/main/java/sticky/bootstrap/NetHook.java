package sticky.bootstrap;

import java.io.FileDescriptor;
import java.lang.invoke.MethodHandle;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.file.Path;

/**
 * What the worker's instrumented JDK classes call instead of
 * {@code sun.nio.ch.Net}. Each method has the signature of the {@code Net}
 * method it stands for and only forwards to a handle into the agent, which
 * decides whether the descriptor is a sticky one or calls the original.
 *
 * <p>This class is a template. The agent copies it into java.base, renamed
 * {@code sun.nio.ch.StickyNetHook} (see {@code sticky.agent.worker.HookClass}),
 * because java.base can see nothing outside itself and the boot class path,
 * and appending to the boot class path turns off class-data sharing with a VM
 * warning. So it uses JDK types only, and its methods may throw anything:
 * the JDK methods they are called from declare IOException.
 *
 * <p>Call sites, checked on JDK 17.0.15 and 25.0.3: {@code ServerSocketChannelImpl},
 * {@code NioSocketImpl}, {@code AsynchronousServerSocketChannelImpl} and
 * {@code UnixAsynchronousServerSocketChannelImpl} and {@code DatagramChannelImpl} in {@code sun.nio.ch}. The
 * same classes' calls to {@code NativeDispatcher.close} and {@code preClose}
 * come here too, with the dispatcher as an Object (the class is
 * package-private): the agent learns that a server socket is closing, then
 * the original runs.
 *
 * <p>The {@code netty*} methods are called from Netty's own
 * {@code io.netty.channel.unix.Socket} and {@code FileDescriptor}, whose
 * native calls bind, listen and accept for its epoll transport (see
 * {@code sticky.agent.worker.NettyRewriter}); descriptors are plain numbers
 * there.
 */
public final class NetHook {
    private NetHook() {}

    /** (Object[] originalArgs) FileDescriptor */
    public static MethodHandle serverSocket;
    /** (boolean knownServer, ProtocolFamily, FileDescriptor, InetAddress, int) void */
    public static MethodHandle bind;
    /** (ProtocolFamily, FileDescriptor, InetAddress, int) void: a UDP socket's bind */
    public static MethodHandle datagramBind;
    /** (FileDescriptor, Path) void: a Unix-domain server socket's bind */
    public static MethodHandle unixBind;
    /** (FileDescriptor, int) void */
    public static MethodHandle listen;
    /** (FileDescriptor) InetSocketAddress */
    public static MethodHandle localAddress;
    /** (FileDescriptor, FileDescriptor, InetSocketAddress[]) int */
    public static MethodHandle accept;
    /** (FileDescriptor, ProtocolFamily, SocketOption, Object) void */
    public static MethodHandle setSocketOption;
    /** (FileDescriptor, ProtocolFamily, SocketOption) Object */
    public static MethodHandle getSocketOption;
    /** (FileDescriptor) void: the agent's part of a close */
    public static MethodHandle closing;
    /** (int fd, SocketAddress) boolean: true if the master bound it for a Netty server socket */
    public static MethodHandle nettyBind;
    /** (int fd) boolean: true if fd is a Netty server socket the master listens for */
    public static MethodHandle nettyListen;
    /** (int fd, byte[] address) int: the accepted socket, -1 for none yet, or Integer.MIN_VALUE: not sticky */
    public static MethodHandle nettyAccept;
    /** (int fd) InetSocketAddress, or null if fd is not a sticky socket */
    public static MethodHandle nettyLocalAddress;
    /** (int fd) void: Netty is about to close fd */
    public static MethodHandle nettyClosing;
    /** NativeDispatcher.close: (Object, FileDescriptor) void */
    public static MethodHandle dispatcherClose;
    /** NativeDispatcher.preClose: (Object, FileDescriptor) void on JDK 17, (Object, FileDescriptor, long, long) void on 25 */
    public static MethodHandle dispatcherPreClose;

    // Net.serverSocket: NioSocketImpl creates a server's descriptor with it (JDK 17 takes
    // "stream", JDK 25 nothing), which is how a later bind knows it is a server's.
    public static FileDescriptor serverSocket(boolean stream) throws Throwable {
        return (FileDescriptor) serverSocket.invokeExact(new Object[] {stream});
    }

    public static FileDescriptor serverSocket() throws Throwable {
        return (FileDescriptor) serverSocket.invokeExact(new Object[0]);
    }

    /** Net.bind as ServerSocketChannelImpl calls it: always a server socket. */
    public static void bind(ProtocolFamily family, FileDescriptor fd, InetAddress addr, int port) throws Throwable {
        bind.invokeExact(true, family, fd, addr, port);
    }

    /** Net.bind as DatagramChannelImpl calls it (DatagramSocket too, since JDK 15): a UDP socket. */
    public static void bindDatagram(ProtocolFamily family, FileDescriptor fd, InetAddress addr, int port) throws Throwable {
        datagramBind.invokeExact(family, fd, addr, port);
    }

    /** UnixDomainSockets.bind as ServerSocketChannelImpl calls it: a Unix-domain server socket. */
    public static void bindUnix(FileDescriptor fd, Path path) throws Throwable {
        unixBind.invokeExact(fd, path);
    }

    /** Net.bind as AsynchronousServerSocketChannelImpl calls it: always a server socket. */
    public static void bindServer(FileDescriptor fd, InetAddress addr, int port) throws Throwable {
        bind.invokeExact(true, (ProtocolFamily) null, fd, addr, port);
    }

    /** Net.bind as NioSocketImpl calls it: a server or a client socket. */
    public static void bindSocketImpl(FileDescriptor fd, InetAddress addr, int port) throws Throwable {
        bind.invokeExact(false, (ProtocolFamily) null, fd, addr, port);
    }

    public static void listen(FileDescriptor fd, int backlog) throws Throwable {
        listen.invokeExact(fd, backlog);
    }

    public static InetSocketAddress localAddress(FileDescriptor fd) throws Throwable {
        return (InetSocketAddress) localAddress.invokeExact(fd);
    }

    public static int accept(FileDescriptor fd, FileDescriptor newfd, InetSocketAddress[] isaa) throws Throwable {
        return (int) accept.invokeExact(fd, newfd, isaa);
    }

    public static void setSocketOption(FileDescriptor fd, SocketOption<?> name, Object value) throws Throwable {
        setSocketOption.invokeExact(fd, (ProtocolFamily) null, (SocketOption) name, value);
    }

    public static void setSocketOption(FileDescriptor fd, ProtocolFamily family, SocketOption<?> name, Object value)
            throws Throwable {
        setSocketOption.invokeExact(fd, family, (SocketOption) name, value);
    }

    public static Object getSocketOption(FileDescriptor fd, SocketOption<?> name) throws Throwable {
        return (Object) getSocketOption.invokeExact(fd, (ProtocolFamily) null, (SocketOption) name);
    }

    public static Object getSocketOption(FileDescriptor fd, ProtocolFamily family, SocketOption<?> name)
            throws Throwable {
        return (Object) getSocketOption.invokeExact(fd, family, (SocketOption) name);
    }

    public static void close(Object dispatcher, FileDescriptor fd) throws Throwable {
        closing.invokeExact(fd);
        dispatcherClose.invokeExact(dispatcher, fd);
    }

    // NativeDispatcher.preClose(FileDescriptor), JDK 17
    public static void preClose(Object dispatcher, FileDescriptor fd) throws Throwable {
        closing.invokeExact(fd);
        dispatcherPreClose.invokeExact(dispatcher, fd);
    }

    // NativeDispatcher.preClose(FileDescriptor, long reader, long writer), JDK 21+
    public static void preClose(Object dispatcher, FileDescriptor fd, long reader, long writer) throws Throwable {
        closing.invokeExact(fd);
        dispatcherPreClose.invokeExact(dispatcher, fd, reader, writer);
    }

    public static boolean nettyBind(int fd, SocketAddress address) throws Throwable {
        return (boolean) nettyBind.invokeExact(fd, address);
    }

    public static boolean nettyListen(int fd) throws Throwable {
        return (boolean) nettyListen.invokeExact(fd);
    }

    public static int nettyAccept(int fd, byte[] address) throws Throwable {
        return (int) nettyAccept.invokeExact(fd, address);
    }

    public static InetSocketAddress nettyLocalAddress(int fd) throws Throwable {
        return (InetSocketAddress) nettyLocalAddress.invokeExact(fd);
    }

    /** Returns fd: it stands before Netty's native close(fd), whose argument it passes on. */
    public static int nettyClosing(int fd) throws Throwable {
        nettyClosing.invokeExact(fd);
        return fd;
    }
}
