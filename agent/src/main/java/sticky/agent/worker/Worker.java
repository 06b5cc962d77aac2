package sticky.agent.worker;

import java.io.File;
import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import sticky.agent.JdkAccess;
import sticky.agent.TemporaryProperty;
import sticky.agent.master.Master;

/**
 * A JVM the master started: the application runs here as usual once
 * {@link #start} returns, with its server sockets served by the master.
 */
public final class Worker {
    /** The system property that holds the worker id, as cluster.worker.id in Node. */
    public static final String ID_PROPERTY = "sticky.worker.id";

    private Worker() {}

    public static void start(Instrumentation inst, File jar, int id) throws Exception {
        String control = System.getenv(Master.ENV_CONTROL);
        String secret = System.getenv(Master.ENV_SECRET);
        if (control == null || secret == null) {
            throw new IllegalStateException(Master.ENV_WORKER_ID + " is set but " + Master.ENV_CONTROL + " or "
                    + Master.ENV_SECRET + " is not: this JVM was not started by a sticky master");
        }
        System.setProperty(ID_PROPERTY, Integer.toString(id));
        JdkAccess.open(inst);
        // net.bytebuddy.safe: Byte Buddy must not touch sun.misc.Unsafe, which JDK 24+ warns about.
        TemporaryProperty.with("net.bytebuddy.safe", "true", () -> {
            Class<?> hook = HookClass.define(jar, new StickyNet(id, secret, Path.of(control)));
            HookInstaller.install(inst, hook);
            NettyRewriter.install(inst, hook);
            return null;
        });
        MasterLink.connect(Path.of(control), id, secret);
    }
}
