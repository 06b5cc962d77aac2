package sticky.agent.master;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The command a worker is started with: exactly this JVM's own command line,
 * read from the process itself (/proc/self/cmdline on Linux). Not from
 * RuntimeMXBean.getInputArguments(): that list also holds what came from
 * JDK_JAVA_OPTIONS, which the worker inherits in its environment and would
 * apply a second time. The -javaagent option is part of the command, so the
 * worker runs the agent too; the environment tells it that it is a worker.
 */
final class WorkerCommand {
    private WorkerCommand() {}

    static List<String> ofThisProcess() {
        ProcessHandle.Info info = ProcessHandle.current().info();
        String java = info.command().orElseThrow(() -> new IllegalStateException("cannot read this JVM's executable"));
        String[] args = info.arguments().orElseThrow(() -> new IllegalStateException("cannot read this JVM's arguments"));
        List<String> command = new ArrayList<>(args.length + 1);
        command.add(java);
        command.addAll(Arrays.asList(args));
        return command;
    }
}
