package sticky.bootstrap;

import java.io.File;
import java.lang.instrument.Instrumentation;

/**
 * The {@code Premain-Class} of sticky.jar. It only starts the real agent from
 * an {@link AgentClassLoader}, so that Byte Buddy, JNA and slf4j never meet
 * the application's own copies.
 */
public final class Premain {
    private Premain() {}

    public static void premain(String args, Instrumentation inst) throws Exception {
        File jar = agentJar();
        AgentClassLoader loader = new AgentClassLoader(jar);
        loader.defineModule();
        Class<?> agent = Class.forName("sticky.agent.Agent", true, loader);
        agent.getMethod("start", String.class, Instrumentation.class, File.class).invoke(null, args, inst, jar);
    }

    /** {@code java -jar sticky.jar}: the operator's command line. */
    public static void main(String[] args) throws Exception {
        File jar = agentJar();
        AgentClassLoader loader = new AgentClassLoader(jar);
        loader.defineModule();
        Class<?> cli = Class.forName("sticky.agent.Cli", true, loader);
        cli.getMethod("main", String[].class).invoke(null, (Object) args);
    }

    private static File agentJar() throws Exception {
        return new File(Premain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }
}
