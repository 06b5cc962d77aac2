package sticky.bootstrap;

import java.io.File;
import java.lang.instrument.Instrumentation;

/**
 * The {@code Premain-Class} of sticky.jar. It only starts the real agent from
 * an {@link AgentClassLoader}, so that Byte Buddy, JNA and slf4j never meet
 * the application's own copies.
 */
public final class Premain {
    /** The options of the agent this JVM runs, once it runs one. */
    private static String running;

    private Premain() {}

    public static void premain(String args, Instrumentation inst) throws Exception {
        if (running != null) {
            // -javaagent twice (the command line and JAVA_TOOL_OPTIONS, say): a second agent would define the JDK
            // hook classes again. A master never gets here (it does not return from its premain: it says it there);
            // a JVM the agent left unclustered does; its workers, started alike, need not say it again.
            if (System.getenv("STICKY_WORKER_ID") == null) {
                System.err.println("sticky: the agent is given twice (on java's command line and in JAVA_TOOL_OPTIONS or "
                        + "JDK_JAVA_OPTIONS?); it runs once, with the first options given, '" + running + "'; '"
                        + (args == null ? "" : args) + "' ignored");
            }
            return;
        }
        running = args == null ? "" : args;
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
