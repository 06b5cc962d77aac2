package sticky.agent.worker;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The JDK classes' rewrite from {@link RewriteCache}: a transformer that
 * gives each class its cached bytes, without ASM. It stays installed, as
 * HookInstaller's does, so that a later retransformation keeps the rewrite.
 */
final class CachedHooks implements ClassFileTransformer {
    private final Map<String, byte[]> cached;
    private final Set<String> given = ConcurrentHashMap.newKeySet();

    private CachedHooks(Map<String, byte[]> cached) {
        this.cached = cached;
    }

    /** Retransforms the cached classes with their cached bytes. */
    static void install(Instrumentation inst, Map<String, byte[]> cached) throws Exception {
        CachedHooks hooks = new CachedHooks(cached);
        Class<?>[] targets = new Class<?>[cached.size()];
        int i = 0;
        for (String name : cached.keySet()) {
            targets[i++] = Class.forName(name.replace('/', '.'));
        }
        inst.addTransformer(hooks, true);
        inst.retransformClasses(targets);
        if (!hooks.given.containsAll(cached.keySet())) {
            throw new IllegalStateException("could not rewrite the calls to sun.nio.ch.Net in " + cached.keySet()
                    + " from the rewrite cache; rewritten: " + hooks.given);
        }
    }

    @Override
    public byte[] transform(Module module, ClassLoader loader, String className, Class<?> redefined,
            ProtectionDomain domain, byte[] bytes) {
        byte[] rewritten = className == null ? null : cached.get(className);
        if (rewritten != null) {
            given.add(className);
        }
        return rewritten;
    }
}
