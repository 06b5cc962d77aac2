package sticky.agent.worker;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.lang.instrument.UnmodifiableClassException;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.Label;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import org.slf4j.Logger;
import sticky.agent.jvm.Logs;

/**
 * Netty's native transports bind, listen and accept through JNI, past the JDK
 * classes {@link HookInstaller} rewrites. For epoll, the single place is
 * {@code io.netty.channel.unix.Socket} (or a shaded copy, any name ending
 * so), loaded after the agent starts: this rewrites it as it is defined.
 * {@code bind}, {@code listen}, {@code accept} and {@code localAddress} each
 * begin by asking the hook ({@link NettyNet}), which answers for a sticky
 * socket and lets Netty's own code run for any other; {@code FileDescriptor.close}
 * tells the hook before its native close. Checked on Netty 4.2.18 (4.1's
 * methods are the same).
 *
 * <p>io_uring accepts with ring operations no method call shows, so it stays
 * off: its availability check reads {@value #NO_IO_URING} where it read
 * {@code io.netty.transport.noNative}, and the worker sets that property.
 */
final class NettyRewriter implements ClassFileTransformer {
    static final String NO_IO_URING = "sticky.netty.noIoUring";
    private static final String NO_NATIVE = "io.netty.transport.noNative";
    private static final String WHY_NO_IO_URING = "sticky: io_uring is off in workers: it accepts through ring"
            + " operations that sticky cannot route (epoll and NIO servers are clustered)";
    private static final String UNIX = "io/netty/channel/unix/";
    private static final Set<String> IO_URING = Set.of("io/netty/channel/uring/IoUring",
            "io/netty/incubator/channel/uring/IOUring");

    private static final Logger log = Logs.get();

    private final Instrumentation inst;
    private final String hook;
    /** Weakly: an application server may drop a web application's loader, and its module with it. */
    private final Set<Module> exportedTo = Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

    NettyRewriter(Instrumentation inst, Class<?> hook) {
        this.inst = inst;
        this.hook = hook.getName().replace('.', '/');
    }

    static void install(Instrumentation inst, Class<?> hook) throws UnmodifiableClassException {
        System.setProperty(NO_IO_URING, "true");
        NettyRewriter rewriter = new NettyRewriter(inst, hook);
        inst.addTransformer(rewriter, true); // retransforming: a later retransformation by anyone keeps the rewrite
        // Netty classes loaded before this agent ran are rewritten now: an AOT cache (JDK 24+, and cds=on)
        // loads and links its classes at VM start, and with them classes they need from the jar, such as
        // Socket, which the cache lacks because this rewrite made its training run skip it.
        List<Class<?>> loaded = new ArrayList<>();
        for (Class<?> c : inst.getAllLoadedClasses()) {
            if (wants(c.getName().replace('.', '/')) && inst.isModifiableClass(c)) {
                loaded.add(c);
            }
        }
        if (!loaded.isEmpty()) {
            log.debug("rewriting Netty classes loaded before the agent: {}", loaded);
            inst.retransformClasses(loaded.toArray(new Class<?>[0]));
        }
    }

    private static boolean wants(String className) {
        return className.endsWith(UNIX + "Socket") || className.endsWith(UNIX + "FileDescriptor") || isIoUring(className);
    }

    @Override
    public byte[] transform(Module module, ClassLoader loader, String className, Class<?> redefined,
            ProtectionDomain domain, byte[] bytes) {
        if (className == null || !wants(className)) {
            return null;
        }
        try {
            return rewrite(module, className, bytes);
        } catch (RuntimeException | LinkageError e) {
            // The JVM would drop the exception and load the class as it is: say so.
            log.error("could not rewrite {}: {}; Netty's native binds in this worker will not go through the master",
                    className, e.toString());
            return null;
        }
    }

    private byte[] rewrite(Module module, String className, byte[] bytes) {
        if (className.endsWith(UNIX + "Socket")) {
            exportHookTo(module);
            return rewrite(bytes, className, Map.of(
                    "bind(Ljava/net/SocketAddress;)V", "nettyBind(ILjava/net/SocketAddress;)Z",
                    "listen(I)V", "nettyListen(I)Z",
                    "accept([B)I", "nettyAccept(I[B)I",
                    "localAddress()Ljava/net/InetSocketAddress;", "nettyLocalAddress(I)Ljava/net/InetSocketAddress;"));
        }
        if (className.endsWith(UNIX + "FileDescriptor")) {
            exportHookTo(module);
            return rewrite(bytes, className, Map.of());
        }
        if (isIoUring(className)) {
            return rewrite(bytes, className, Map.of());
        }
        return null;
    }

    private static boolean isIoUring(String className) {
        for (String name : IO_URING) {
            if (className.endsWith(name)) {
                return true;
            }
        }
        return false;
    }

    /** The hook lives in java.base's sun.nio.ch (see HookClass): Netty's module may call it. */
    private void exportHookTo(Module module) {
        if (exportedTo.add(module)) {
            inst.redefineModule(Object.class.getModule(), Set.of(), Map.of("sun.nio.ch", Set.of(module)), Map.of(),
                    Set.of(), Map.of());
        }
    }

    /**
     * Puts a call to the hook at the start of each method named in prologues
     * (name + descriptor, to the hook's name + descriptor), before Netty's
     * native close in close(), and turns the noNative property's name into
     * NO_IO_URING (and the message that names it into sticky's reason).
     */
    private byte[] rewrite(byte[] bytes, String className, Map<String, String> prologues) {
        ClassReader reader = new ClassReader(bytes);
        ClassWriter writer = new ClassWriter(reader, 0);
        boolean[] changed = new boolean[1];
        // Frames describe the prologue's branch: class files before Java 6 have none.
        boolean frames = reader.readUnsignedShort(6) >= Opcodes.V1_6;
        boolean ioUring = isIoUring(className);
        reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                    String[] exceptions) {
                MethodVisitor next = super.visitMethod(access, name, descriptor, signature, exceptions);
                String prologue = prologues.get(name + descriptor);
                boolean close = name.equals("close") && descriptor.equals("()V");
                return new MethodVisitor(Opcodes.ASM9, next) {
                    @Override
                    public void visitCode() {
                        super.visitCode();
                        if (prologue != null) {
                            askHook(this, className, prologue, descriptor, frames);
                            changed[0] = true;
                        }
                    }

                    @Override
                    public void visitMethodInsn(int opcode, String owner, String method, String desc, boolean itf) {
                        if (close && opcode == Opcodes.INVOKESTATIC && owner.equals(className)
                                && method.equals("close") && desc.equals("(I)I")) {
                            super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, "nettyClosing", "(I)I", false);
                            changed[0] = true;
                        }
                        super.visitMethodInsn(opcode, owner, method, desc, itf);
                    }

                    @Override
                    public void visitLdcInsn(Object value) {
                        if (NO_NATIVE.equals(value) && ioUring) {
                            super.visitLdcInsn(NO_IO_URING);
                            changed[0] = true;
                        } else if (value instanceof String message && message.contains(NO_NATIVE) && ioUring) {
                            super.visitLdcInsn(WHY_NO_IO_URING); // the reason Netty reports
                        } else {
                            super.visitLdcInsn(value);
                        }
                    }

                    @Override
                    public void visitMaxs(int maxStack, int maxLocals) {
                        super.visitMaxs(maxStack + 3, maxLocals); // the prologue's fd, argument and answer
                    }
                };
            }
        }, 0);
        return changed[0] ? writer.toByteArray() : null;
    }

    /**
     * hook(this.fd[, argument]); returns its answer unless it says "not mine":
     * false for the void methods, NOT_STICKY for accept, null for
     * localAddress. Then Netty's own code runs, from an unchanged frame.
     */
    private void askHook(MethodVisitor mv, String className, String prologue, String descriptor, boolean frames) {
        int paren = prologue.indexOf('(');
        String hookDescriptor = prologue.substring(paren);
        Label own = new Label();
        mv.visitVarInsn(Opcodes.ALOAD, 0);
        mv.visitFieldInsn(Opcodes.GETFIELD, className, "fd", "I");
        if (!hookDescriptor.startsWith("(I)")) {
            mv.visitVarInsn(Opcodes.ALOAD, 1); // the method's argument, a reference for bind and accept
        }
        mv.visitMethodInsn(Opcodes.INVOKESTATIC, hook, prologue.substring(0, paren), hookDescriptor, false);
        if (descriptor.endsWith(")V")) {
            mv.visitJumpInsn(Opcodes.IFEQ, own);
            mv.visitInsn(Opcodes.RETURN);
            mv.visitLabel(own);
            if (frames) {
                mv.visitFrame(Opcodes.F_SAME, 0, null, 0, null);
            }
        } else if (descriptor.endsWith(")I")) {
            mv.visitInsn(Opcodes.DUP);
            mv.visitLdcInsn(NettyNet.NOT_STICKY);
            mv.visitJumpInsn(Opcodes.IF_ICMPEQ, own);
            mv.visitInsn(Opcodes.IRETURN);
            mv.visitLabel(own);
            if (frames) {
                mv.visitFrame(Opcodes.F_SAME1, 0, null, 1, new Object[] {Opcodes.INTEGER});
            }
            mv.visitInsn(Opcodes.POP);
        } else {
            mv.visitInsn(Opcodes.DUP);
            mv.visitJumpInsn(Opcodes.IFNULL, own);
            mv.visitInsn(Opcodes.ARETURN);
            mv.visitLabel(own);
            if (frames) {
                mv.visitFrame(Opcodes.F_SAME1, 0, null, 1, new Object[] {"java/net/InetSocketAddress"});
            }
            mv.visitInsn(Opcodes.POP);
        }
        mv.visitInsn(Opcodes.NOP); // the original code may carry a frame at its first instruction
    }
}
