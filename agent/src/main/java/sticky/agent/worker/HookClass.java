package sticky.agent.worker;

import static java.lang.invoke.MethodType.methodType;

import java.io.File;
import java.io.FileDescriptor;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.net.SocketOption;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.commons.ClassRemapper;
import net.bytebuddy.jar.asm.commons.SimpleRemapper;

/**
 * Puts the hook where instrumented java.base code can call it: the
 * {@code sticky.bootstrap.NetHook} template from sticky.jar, renamed
 * {@code sun.nio.ch.StickyNetHook} and defined in java.base with a private
 * lookup on {@code sun.nio.ch.Net}. This replaces appending sticky.jar to the
 * boot class path, which makes HotSpot print "Sharing is only supported for
 * boot loader classes because bootstrap classpath has been appended" and turn
 * off class-data sharing for the application (JDK 17 and 25).
 */
final class HookClass {
    static final String NAME = "sun.nio.ch.StickyNetHook";
    static final String TEMPLATE = "sticky.bootstrap.NetHook";

    private HookClass() {}

    /** The template from jar, renamed: the hook class's bytes (what {@link RewriteCache} keeps). */
    static byte[] renamed(File jar) throws Exception {
        byte[] template;
        try (ClassFileLocator locator = ClassFileLocator.ForJarFile.of(jar)) {
            template = locator.locate(TEMPLATE).resolve();
        }
        ClassWriter writer = new ClassWriter(0);
        new ClassReader(template).accept(new ClassRemapper(writer,
                new SimpleRemapper(TEMPLATE.replace('.', '/'), NAME.replace('.', '/'))), 0);
        return writer.toByteArray();
    }

    /** Defines the hook class from bytes (see {@link #renamed}) in java.base, and points it at net. */
    static Class<?> define(byte[] bytes, StickyNet net) throws Exception {
        Class<?> hook = MethodHandles.privateLookupIn(Class.forName("sun.nio.ch.Net"), MethodHandles.lookup())
                .defineClass(bytes);

        MethodHandles.Lookup lookup = MethodHandles.lookup();
        Class<?> fd = FileDescriptor.class;
        point(hook, "serverSocket", lookup, net, methodType(FileDescriptor.class, Object[].class));
        point(hook, "bind", lookup, net,
                methodType(void.class, boolean.class, ProtocolFamily.class, fd, InetAddress.class, int.class));
        point(hook, "datagramBind", lookup, net, "bindDatagram",
                methodType(void.class, ProtocolFamily.class, fd, InetAddress.class, int.class));
        point(hook, "unixBind", lookup, net, "bindUnix", methodType(void.class, fd, java.nio.file.Path.class));
        point(hook, "listen", lookup, net, methodType(void.class, fd, int.class));
        point(hook, "localAddress", lookup, net, methodType(InetSocketAddress.class, fd));
        point(hook, "accept", lookup, net, methodType(int.class, fd, fd, InetSocketAddress[].class));
        point(hook, "setSocketOption", lookup, net,
                methodType(void.class, fd, ProtocolFamily.class, SocketOption.class, Object.class));
        point(hook, "getSocketOption", lookup, net,
                methodType(Object.class, fd, ProtocolFamily.class, SocketOption.class));
        point(hook, "closing", lookup, net, methodType(void.class, fd));
        NettyNet netty = new NettyNet(net);
        point(hook, "nettyBind", lookup, netty, "bind", methodType(boolean.class, int.class, SocketAddress.class));
        point(hook, "nettyListen", lookup, netty, "listen", methodType(boolean.class, int.class));
        point(hook, "nettyAccept", lookup, netty, "accept", methodType(int.class, int.class, byte[].class));
        point(hook, "nettyLocalAddress", lookup, netty, "localAddress", methodType(InetSocketAddress.class, int.class));
        point(hook, "nettyClosing", lookup, netty, "closing", methodType(void.class, int.class));
        hook.getField("dispatcherClose").set(null, dispatcherMethod("close"));
        hook.getField("dispatcherPreClose").set(null, dispatcherMethod("preClose"));
        return hook;
    }

    /**
     * sun.nio.ch.NativeDispatcher's method (close, or preClose, whose
     * parameters differ between JDK 17 and 25) with an Object receiver, as the
     * hook, which cannot name the package-private class, calls it.
     */
    static MethodHandle dispatcherMethod(String name) throws ReflectiveOperationException {
        Class<?> dispatcher = Class.forName("sun.nio.ch.NativeDispatcher");
        for (java.lang.reflect.Method m : dispatcher.getDeclaredMethods()) {
            if (m.getName().equals(name) && m.getParameterCount() >= 1 && m.getParameterTypes()[0] == FileDescriptor.class) {
                MethodHandle handle = MethodHandles.privateLookupIn(dispatcher, MethodHandles.lookup()).unreflect(m);
                return handle.asType(handle.type().changeParameterType(0, Object.class));
            }
        }
        throw new NoSuchMethodException("sun.nio.ch.NativeDispatcher." + name);
    }

    private static void point(Class<?> hook, String name, MethodHandles.Lookup lookup, StickyNet net,
            java.lang.invoke.MethodType type) throws ReflectiveOperationException {
        point(hook, name, lookup, net, name, type);
    }

    /** Sets the hook's field to target's method. */
    private static void point(Class<?> hook, String field, MethodHandles.Lookup lookup, Object target, String method,
            java.lang.invoke.MethodType type) throws ReflectiveOperationException {
        hook.getField(field).set(null, lookup.findVirtual(target.getClass(), method, type).bindTo(target));
    }
}
