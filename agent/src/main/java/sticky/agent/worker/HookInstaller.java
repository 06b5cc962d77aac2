package sticky.agent.worker;

import java.io.FileDescriptor;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.Method;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.SocketOption;
import java.security.ProtectionDomain;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.jar.asm.Type;

/**
 * The single place that names the JDK classes and call sites sticky rewrites.
 * In each class below, every call to a {@code sun.nio.ch.Net} (or {@code UnixDomainSockets}) method listed
 * for it becomes a call to the hook method of the same descriptor
 * ({@code sticky.bootstrap.NetHook}, defined in java.base by
 * {@link HookClass}); and every call to {@code NativeDispatcher.close} or
 * {@code preClose} becomes a call to the hook's static method of that name
 * with the dispatcher as its first parameter, so that the agent sees a
 * server socket close. Checked on JDK 17.0.15 and 25.0.3.
 *
 * <p>A call instruction swapped for another of the same descriptor changes
 * neither the stack nor the frames, so this is done with the ASM that Byte
 * Buddy carries, by a plain ClassFileTransformer: Byte Buddy's AgentBuilder
 * did the same in about 650 ms per worker, most of it its own start-up; this
 * takes a few tens.
 */
final class HookInstaller implements ClassFileTransformer {
    private static final String NET = "sun/nio/ch/Net";
    /** Its calls are rewritten as Net's are, with the table's key prefixed by UNIX_PREFIX. */
    private static final String UNIX = "sun/nio/ch/UnixDomainSockets";
    private static final String UNIX_PREFIX = "UnixDomainSockets.";
    private static final String DISPATCHER = "sun/nio/ch/NativeDispatcher";
    /** The classes that close server sockets (JDK 17 and 25): their close calls must be found. */
    private static final Set<String> CLOSERS = Set.of("sun/nio/ch/ServerSocketChannelImpl", "sun/nio/ch/NioSocketImpl",
            "sun/nio/ch/UnixAsynchronousServerSocketChannelImpl", "sun/nio/ch/DatagramChannelImpl");

    /** Per class (internal name): Net method name + descriptor, to the hook method's name. */
    private final Map<String, Map<String, String>> rewrites;
    private final String hook;
    private final Map<String, Integer> rewritten = new ConcurrentHashMap<>();
    private final Set<String> closesRewritten = ConcurrentHashMap.newKeySet();
    /** What each class's rewrite made (for {@link RewriteCache}). */
    private final Map<String, byte[]> made = new ConcurrentHashMap<>();

    private HookInstaller(Map<String, Map<String, String>> rewrites, Class<?> hook) {
        this.rewrites = rewrites;
        this.hook = Type.getInternalName(hook);
    }

    /** Rewrites the JDK classes for hook; returns what each got, to be kept in the {@link RewriteCache}. */
    static Map<String, byte[]> install(Instrumentation inst, Class<?> hook) throws Exception {
        HookInstaller installer = rewriter(hook);
        Map<String, Map<String, String>> rewrites = installer.rewrites;
        Class<?>[] targets = new Class<?>[rewrites.size()];
        int i = 0;
        for (String name : rewrites.keySet()) {
            targets[i++] = Class.forName(name.replace('/', '.'));
        }
        inst.addTransformer(installer, true); // stays: a later retransformation by anyone keeps the rewrite
        inst.retransformClasses(targets);
        if (!installer.rewritten.keySet().containsAll(rewrites.keySet())) {
            throw new IllegalStateException("could not rewrite the calls to sun.nio.ch.Net in " + rewrites.keySet()
                    + "; rewritten: " + installer.rewritten);
        }
        if (!installer.closesRewritten.containsAll(CLOSERS)) {
            throw new IllegalStateException("could not rewrite the calls to NativeDispatcher.close in " + CLOSERS
                    + "; rewritten: " + installer.closesRewritten);
        }
        return Map.copyOf(installer.made);
    }

    private static HookInstaller rewriter(Class<?> hook) throws Exception {
        Class<?> fd = FileDescriptor.class;
        List<Method> common = List.of(
                hook.getMethod("listen", fd, int.class),
                hook.getMethod("localAddress", fd),
                hook.getMethod("accept", fd, fd, InetSocketAddress[].class),
                hook.getMethod("setSocketOption", fd, SocketOption.class, Object.class),
                hook.getMethod("setSocketOption", fd, ProtocolFamily.class, SocketOption.class, Object.class),
                hook.getMethod("getSocketOption", fd, SocketOption.class),
                hook.getMethod("getSocketOption", fd, ProtocolFamily.class, SocketOption.class));
        Map<String, Map<String, String>> rewrites = new HashMap<>();
        rewrites.put("sun/nio/ch/ServerSocketChannelImpl", table(common,
                "bind", hook.getMethod("bind", ProtocolFamily.class, fd, InetAddress.class, int.class),
                UNIX_PREFIX + "bind", hook.getMethod("bindUnix", fd, java.nio.file.Path.class)));
        // JDK 25's NioSocketImpl sets IP_TOS through Net.setIpSocketOption (JDK 17: setSocketOption), of the same
        // erased descriptor as the family-taking setSocketOption: the same hook.
        rewrites.put("sun/nio/ch/NioSocketImpl", table(common,
                "bind", hook.getMethod("bindSocketImpl", fd, InetAddress.class, int.class),
                "serverSocket", serverSocketHook(hook),
                "setIpSocketOption", hook.getMethod("setSocketOption", fd, ProtocolFamily.class, SocketOption.class,
                        Object.class)));
        rewrites.put("sun/nio/ch/AsynchronousServerSocketChannelImpl", table(common,
                "bind", hook.getMethod("bindServer", fd, InetAddress.class, int.class)));
        // DatagramChannelImpl calls Net.bind in bindInternal and in repairSocket (JDK 17 and 25).
        rewrites.put("sun/nio/ch/DatagramChannelImpl", table(List.of(),
                "bind", hook.getMethod("bindDatagram", ProtocolFamily.class, fd, InetAddress.class, int.class)));
        rewrites.put("sun/nio/ch/UnixAsynchronousServerSocketChannelImpl", table(List.of(
                hook.getMethod("accept", fd, fd, InetSocketAddress[].class))));
        return new HookInstaller(rewrites, hook);
    }

    /** The common hooks under their own names, plus (netName, hookMethod) pairs. */
    private static Map<String, String> table(List<Method> common, Object... renamed) {
        Map<String, String> table = new HashMap<>();
        for (Method m : common) {
            table.put(m.getName() + Type.getMethodDescriptor(m), m.getName());
        }
        for (int i = 0; i < renamed.length; i += 2) {
            Method m = (Method) renamed[i + 1];
            table.put(renamed[i] + Type.getMethodDescriptor(m), m.getName());
        }
        return table;
    }

    /** Net.serverSocket takes a boolean on JDK 17 and nothing on JDK 25: the hook has both. */
    private static Method serverSocketHook(Class<?> hook) throws Exception {
        for (Method m : Class.forName("sun.nio.ch.Net").getDeclaredMethods()) {
            if (m.getName().equals("serverSocket") && m.getParameterCount() <= 1
                    && (m.getParameterCount() == 0 || m.getParameterTypes()[0] == boolean.class)) {
                return hook.getMethod("serverSocket", m.getParameterTypes());
            }
        }
        throw new NoSuchMethodException("sun.nio.ch.Net.serverSocket");
    }

    @Override
    public byte[] transform(Module module, ClassLoader loader, String className, Class<?> redefined,
            ProtectionDomain domain, byte[] bytes) {
        Map<String, String> table = className == null ? null : rewrites.get(className);
        if (table == null) {
            return null;
        }
        ClassReader reader = new ClassReader(bytes);
        ClassWriter writer = new ClassWriter(reader, 0);
        int[] count = new int[1];
        boolean[] closes = new boolean[1];
        reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                    String[] exceptions) {
                return new MethodVisitor(Opcodes.ASM9, super.visitMethod(access, name, descriptor, signature, exceptions)) {
                    @Override
                    public void visitMethodInsn(int opcode, String owner, String method, String desc, boolean itf) {
                        String target = opcode != Opcodes.INVOKESTATIC ? null
                                : owner.equals(NET) ? table.get(method + desc)
                                : owner.equals(UNIX) ? table.get(UNIX_PREFIX + method + desc) : null;
                        if (target != null) {
                            count[0]++;
                            super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, target, desc, false);
                        } else if (opcode == Opcodes.INVOKEVIRTUAL && owner.equals(DISPATCHER)
                                && (method.equals("close") || method.equals("preClose"))) {
                            // nd.close(fd) -> StickyNetHook.close(nd, fd): the same stack, the receiver as an Object
                            count[0]++;
                            closes[0] = true;
                            super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, method, "(Ljava/lang/Object;" + desc.substring(1),
                                    false);
                        } else {
                            super.visitMethodInsn(opcode, owner, method, desc, itf);
                        }
                    }
                };
            }
        }, 0);
        if (count[0] == 0) {
            return null;
        }
        rewritten.merge(className, count[0], Integer::sum);
        if (closes[0]) {
            closesRewritten.add(className);
        }
        byte[] result = writer.toByteArray();
        made.put(className, result);
        return result;
    }
}
