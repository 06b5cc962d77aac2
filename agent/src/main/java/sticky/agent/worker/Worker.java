package sticky.agent.worker;

import java.io.File;
import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import sticky.agent.common.Environment;
import sticky.agent.jvm.JdkAccess;
import sticky.agent.jvm.JvmAgents;
import sticky.agent.jvm.Logs;
import sticky.agent.jvm.TemporaryProperty;
import sticky.agent.unix.NativeSetup;

/**
 * A JVM the master started: the application runs here as usual once
 * {@link #start} returns, with its server sockets served by the master.
 */
public final class Worker {
    private static final Logger log = Logs.get();

    private Worker() {}

    /** privatePorts: binds of these ports stay the worker's, at the port plus its id (private=). */
    public static void start(Instrumentation inst, File jar, int id, Set<Integer> privatePorts, boolean caches)
            throws Exception {
        String control = System.getenv(Environment.CONTROL);
        String secret = System.getenv(Environment.SECRET);
        if (control == null || secret == null) {
            throw new IllegalStateException(Environment.WORKER_ID + " is set but " + Environment.CONTROL + " or "
                    + Environment.SECRET + " is not: this JVM was not started by a sticky master");
        }
        System.setProperty(Environment.ID_PROPERTY, Integer.toString(id));
        JdkAccess.open(inst);
        ClassData.checkArchive();
        Path perUser = Path.of(control).getParent().getParent(); // $TMPDIR/sticky-<uid>, which holds the master's
        NativeSetup.load(perUser);
        StickyNet net = new StickyNet(id, secret, Path.of(control), privatePorts);
        // Not with cds=off (no class data kept), nor where another agent may change the classes too: its changes are
        // not in the cache, nor ours in its view.
        RewriteCache cache = !caches || JvmAgents.ofThisJvm().othersBeside(jar) ? null
                : RewriteCache.in(perUser.resolve("classes"), jar);
        RewriteCache.Entry cached = cache == null ? null : cache.read();
        // net.bytebuddy.safe: Byte Buddy must not touch sun.misc.Unsafe, which JDK 24+ warns about.
        TemporaryProperty.with("net.bytebuddy.safe", "true", () -> {
            Class<?> hook;
            if (cached != null) {
                hook = HookClass.define(cached.hook(), net);
                CachedHooks.install(inst, cached.classes());
                log.debug("worker {}: JDK classes from the rewrite cache {}", id, cache.file());
            } else {
                byte[] bytes = HookClass.renamed(jar);
                hook = HookClass.define(bytes, net);
                Map<String, byte[]> rewritten = HookInstaller.install(inst, hook);
                if (cache != null) {
                    cache.write(new RewriteCache.Entry(bytes, rewritten));
                    log.debug("worker {}: JDK classes rewritten, kept in {}", id, cache.file());
                } else {
                    log.debug("worker {}: JDK classes rewritten (no cache: {})", id, caches ? "another agent runs here"
                            : "cds=off");
                }
            }
            NettyRewriter.install(inst, hook);
            return null;
        });
        MasterLink.connect(Path.of(control), id, secret);
    }
}
