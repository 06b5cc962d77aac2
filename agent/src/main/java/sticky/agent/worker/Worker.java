package sticky.agent.worker;

import java.io.File;
import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.util.Set;
import sticky.agent.common.Environment;
import sticky.agent.jvm.JdkAccess;
import sticky.agent.jvm.TemporaryProperty;

/**
 * A JVM the master started: the application runs here as usual once
 * {@link #start} returns, with its server sockets served by the master.
 */
public final class Worker {
    private Worker() {}

    /** privatePorts: binds of these ports stay the worker's, at the port plus its id (private=). */
    public static void start(Instrumentation inst, File jar, int id, Set<Integer> privatePorts) throws Exception {
        String control = System.getenv(Environment.CONTROL);
        String secret = System.getenv(Environment.SECRET);
        if (control == null || secret == null) {
            throw new IllegalStateException(Environment.WORKER_ID + " is set but " + Environment.CONTROL + " or "
                    + Environment.SECRET + " is not: this JVM was not started by a sticky master");
        }
        System.setProperty(Environment.ID_PROPERTY, Integer.toString(id));
        JdkAccess.open(inst);
        ClassData.checkArchive();
        // net.bytebuddy.safe: Byte Buddy must not touch sun.misc.Unsafe, which JDK 24+ warns about.
        TemporaryProperty.with("net.bytebuddy.safe", "true", () -> {
            Class<?> hook = HookClass.define(jar, new StickyNet(id, secret, Path.of(control), privatePorts));
            HookInstaller.install(inst, hook);
            NettyRewriter.install(inst, hook);
            return null;
        });
        MasterLink.connect(Path.of(control), id, secret);
    }
}
