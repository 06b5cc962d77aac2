package sticky.agent.worker;

import static net.bytebuddy.matcher.ElementMatchers.any;
import static net.bytebuddy.matcher.ElementMatchers.isDeclaredBy;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.namedOneOf;
import static net.bytebuddy.matcher.ElementMatchers.none;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import java.io.FileDescriptor;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.Method;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.SocketOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.asm.MemberSubstitution;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.utility.JavaModule;

/**
 * The single place that names the JDK classes and call sites sticky rewrites.
 * In each class below, calls to {@code sun.nio.ch.Net} methods are replaced
 * by calls to the hook method of the same signature ({@code sticky.bootstrap.NetHook},
 * defined in java.base by {@link HookClass}). Checked on
 * JDK 17.0.15 and 25.0.3 (dump with -Dnet.bytebuddy.dump=DIR).
 */
final class HookInstaller {
    private static final String NET = "sun.nio.ch.Net";

    private record Rewrite(String netMethod, int arguments, Method hook) {}

    private HookInstaller() {}

    static void install(Instrumentation inst, Class<?> hook) throws Exception {
        Class<?> fd = FileDescriptor.class;
        Rewrite listen = rewrite(hook, "listen", 2, "listen", fd, int.class);
        Rewrite localAddress = rewrite(hook, "localAddress", 1, "localAddress", fd);
        Rewrite accept = rewrite(hook, "accept", 3, "accept", fd, fd, InetSocketAddress[].class);
        Rewrite set3 = rewrite(hook, "setSocketOption", 3, "setSocketOption", fd, SocketOption.class, Object.class);
        Rewrite set4 = rewrite(hook, "setSocketOption", 4, "setSocketOption", fd, ProtocolFamily.class, SocketOption.class,
                Object.class);
        Rewrite get2 = rewrite(hook, "getSocketOption", 2, "getSocketOption", fd, SocketOption.class);
        Rewrite get3 = rewrite(hook, "getSocketOption", 3, "getSocketOption", fd, ProtocolFamily.class, SocketOption.class);

        Map<String, List<Rewrite>> rewrites = new HashMap<>();
        rewrites.put("sun.nio.ch.ServerSocketChannelImpl", List.of(
                rewrite(hook, "bind", 4, "bind", ProtocolFamily.class, fd, InetAddress.class, int.class),
                listen, localAddress, accept, set3, set4, get2, get3));
        rewrites.put("sun.nio.ch.NioSocketImpl", List.of(
                serverSocketRewrite(hook),
                rewrite(hook, "bind", 3, "bindSocketImpl", fd, InetAddress.class, int.class),
                listen, localAddress, accept, set3, set4, get2, get3));
        rewrites.put("sun.nio.ch.AsynchronousServerSocketChannelImpl", List.of(
                rewrite(hook, "bind", 3, "bindServer", fd, InetAddress.class, int.class),
                listen, localAddress, set3, set4, get2, get3));
        rewrites.put("sun.nio.ch.UnixAsynchronousServerSocketChannelImpl", List.of(accept));

        for (String name : rewrites.keySet()) {
            Class.forName(name); // load now, so that installation retransforms it and we can check
        }
        Set<String> transformed = ConcurrentHashMap.newKeySet();
        Map<String, Throwable> errors = new ConcurrentHashMap<>();
        new AgentBuilder.Default()
                .disableClassFormatChanges()
                .with(AgentBuilder.RedefinitionStrategy.RETRANSFORMATION)
                .with(AgentBuilder.InitializationStrategy.NoOp.INSTANCE)
                .with(AgentBuilder.TypeStrategy.Default.REDEFINE)
                .ignore(none()) // the default ignores java.base silently
                .with(new AgentBuilder.Listener.Adapter() {
                    @Override
                    public void onTransformation(TypeDescription type, ClassLoader loader, JavaModule module,
                            boolean loaded, DynamicType dynamicType) {
                        transformed.add(type.getName());
                    }

                    @Override
                    public void onError(String type, ClassLoader loader, JavaModule module, boolean loaded,
                            Throwable throwable) {
                        errors.put(type, throwable);
                    }
                })
                .type(namedOneOf(rewrites.keySet().toArray(new String[0])))
                .transform((builder, type, loader, module, domain) ->
                        builder.visit(substitution(rewrites.get(type.getName())).on(any())))
                .installOn(inst);
        if (!errors.isEmpty() || !transformed.containsAll(rewrites.keySet())) {
            throw new IllegalStateException("could not instrument " + rewrites.keySet() + ": transformed "
                    + transformed + ", errors " + errors);
        }
    }

    private static MemberSubstitution substitution(List<Rewrite> rewrites) {
        MemberSubstitution substitution = MemberSubstitution.relaxed();
        for (Rewrite r : rewrites) {
            ElementMatcher.Junction<MethodDescription> target = named(r.netMethod())
                    .and(takesArguments(r.arguments())).and(isDeclaredBy(named(NET)));
            substitution = substitution.method(target).replaceWith(r.hook());
        }
        return substitution;
    }

    private static Rewrite rewrite(Class<?> hook, String netMethod, int arguments, String hookMethod,
            Class<?>... types) throws NoSuchMethodException {
        return new Rewrite(netMethod, arguments, hook.getMethod(hookMethod, types));
    }

    /** Net.serverSocket takes a boolean on JDK 17 and nothing on JDK 25: match what this JDK has. */
    private static Rewrite serverSocketRewrite(Class<?> hook) throws Exception {
        for (Method m : Class.forName(NET).getDeclaredMethods()) {
            if (m.getName().equals("serverSocket") && m.getParameterCount() <= 1
                    && (m.getParameterCount() == 0 || m.getParameterTypes()[0] == boolean.class)) {
                return rewrite(hook, "serverSocket", m.getParameterCount(), "serverSocket", m.getParameterTypes());
            }
        }
        throw new NoSuchMethodException(NET + ".serverSocket");
    }
}
