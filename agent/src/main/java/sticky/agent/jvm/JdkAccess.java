package sticky.agent.jvm;

import java.lang.instrument.Instrumentation;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.Set;

/**
 * Opens the JDK internals sticky uses to its own module, without asking the
 * user for --add-opens, and enables native access for JNA on JDK 22+ without
 * --enable-native-access (so that no warning is printed on JDK 24+).
 */
public final class JdkAccess {
    private JdkAccess() {}

    public static void open(Instrumentation inst) {
        Module self = JdkAccess.class.getModule();
        Module javaBase = Object.class.getModule();
        inst.redefineModule(javaBase,
                Set.of(),
                Map.of(),
                Map.of("sun.nio.ch", Set.of(self), "java.io", Set.of(self), "java.lang", Set.of(self)),
                Set.of(),
                Map.of());
        enableNativeAccess(self);
    }

    /** The descriptor number of a JDK channel: sun.nio.ch.SelChImpl.getFDVal() (JDK 17 and 25). */
    public static int channelFd(java.nio.channels.Channel channel) {
        try {
            Method getFdVal = Class.forName("sun.nio.ch.SelChImpl").getMethod("getFDVal");
            getFdVal.setAccessible(true);
            return (int) getFdVal.invoke(channel);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("sun.nio.ch.SelChImpl.getFDVal() is not available", e);
        }
    }

    // java.lang.Module.implAddEnableNativeAccess(): package-private, JDK 22+ (checked on 25.0.3).
    // Before JDK 22 native access is not restricted and the method does not exist.
    private static void enableNativeAccess(Module module) {
        Method enable;
        try {
            enable = Module.class.getDeclaredMethod("implAddEnableNativeAccess");
        } catch (NoSuchMethodException olderJdk) {
            return;
        }
        try {
            enable.setAccessible(true);
            enable.invoke(module);
        } catch (ReflectiveOperationException | RuntimeException e) {
            Logs.get().warn("could not enable native access for sticky: {}", e.toString());
        }
    }
}
