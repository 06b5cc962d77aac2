package sticky.agent;

import java.io.File;
import java.lang.instrument.Instrumentation;
import java.util.List;
import sticky.agent.common.Environment;
import sticky.agent.common.Version;
import sticky.agent.jvm.Logs;
import sticky.agent.jvm.Platforms;
import sticky.agent.master.Master;
import sticky.agent.options.Options;
import sticky.agent.worker.Worker;

/**
 * Started by {@code sticky.bootstrap.Premain} in the agent's own class loader.
 * Picks the role: a JVM whose environment names a worker id is a worker; any
 * other is the master, which never returns from here.
 */
public final class Agent {
    private Agent() {}

    public static void start(String args, Instrumentation inst, File jar) {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            fail("sticky: " + e.getMessage(), 2);
            return;
        }
        Logs.init(options.log());
        Version.pin();
        String unsupported = Platforms.unsupported();
        if (unsupported != null) {
            Logs.get().warn("{}; the application runs unclustered, in this one JVM", unsupported);
            return;
        }
        String id = System.getenv(Environment.WORKER_ID);
        if (id == null) {
            sayIfGivenTwice(jar, args);
            Master.run(options, inst);
            return;
        }
        try {
            long start = System.nanoTime();
            long cpu = processCpuMs();
            Worker.start(inst, jar, Integer.parseInt(id), options.privatePorts(), options.cds());
            // Wall time depends on what else starts on the machine (the other workers do); CPU time less so.
            Logs.get().debug("worker {}: agent installed in {} ms ({} ms of CPU)", id,
                    (System.nanoTime() - start) / 1_000_000, processCpuMs() - cpu);
        } catch (sticky.agent.worker.MasterLink.RefusedException e) {
            fail("sticky: worker " + id + " could not start: " + e.getMessage(), 1);
        } catch (Exception | LinkageError e) {
            Logs.get().error("worker {} could not start: {}", id, e.toString(), e);
            fail("sticky: worker " + id + " could not start: " + e, 1);
        }
    }

    /**
     * sticky.jar given twice (java's command line and JAVA_TOOL_OPTIONS, say):
     * the master never returns from its premain, so the JVM never starts
     * the second one here (a worker's second returns at once, see
     * sticky.bootstrap.Premain); the JVM's arguments show it, and it is said
     * once, here.
     */
    private static void sayIfGivenTwice(File jar, String args) {
        List<String> ours = sticky.agent.jvm.JvmAgents.ofThisJvm().optionsOf(jar);
        if (ours.size() > 1) {
            System.err.println("sticky: the agent is given twice (on java's command line and in JAVA_TOOL_OPTIONS or "
                    + "JDK_JAVA_OPTIONS?); it runs once, with the first options given, '" + (args == null ? "" : args)
                    + "'; " + ours.subList(1, ours.size()).stream().map(o -> "'" + o + "'")
                    .collect(java.util.stream.Collectors.joining(", ")) + " ignored");
        }
    }

    /** This process's CPU time so far, all threads (the JIT compiling the agent counts too). */
    private static long processCpuMs() {
        return ProcessHandle.current().info().totalCpuDuration().map(java.time.Duration::toMillis).orElse(0L);
    }

    private static void fail(String message, int code) {
        System.err.println(message);
        System.err.flush();
        // halt, not exit: no application code has run, and none of it should now
        Runtime.getRuntime().halt(code);
    }
}
