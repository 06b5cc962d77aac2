package sticky.agent.master.spawn;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;
import java.lang.management.ManagementFactory;

/**
 * The master's HotSpot flags, which tell how the workers should size
 * themselves (HotSpotDiagnosticMXBean): a flag the user set, on the command
 * line, in JAVA_TOOL_OPTIONS or JDK_JAVA_OPTIONS or an @argfile, is theirs to
 * keep; one at HotSpot's default or of its own choice (ergonomic) is not.
 */
final class VmFlags {
    private VmFlags() {}

    /** The flag, or null where this JVM has none of that name. */
    static VMOption get(String name) {
        try {
            return ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class).getVMOption(name);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    static boolean setByUser(VMOption option) {
        return option.getOrigin() != VMOption.Origin.DEFAULT && option.getOrigin() != VMOption.Origin.ERGONOMIC;
    }
}
