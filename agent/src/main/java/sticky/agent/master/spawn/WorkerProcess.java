package sticky.agent.master.spawn;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import sticky.agent.common.Environment;
import sticky.agent.options.Options;

/**
 * How a worker process is started: this JVM's command ({@link WorkerCommand}),
 * sized for its share of the machine among the workers asked for now
 * ({@link ProcessorShare}, {@link MemoryShare}), with the class data cache's
 * options ({@link ClassDataArchive}), and an environment that tells it which
 * slot it serves and where the master listens, without what is the master's
 * alone.
 */
public final class WorkerProcess {
    private final List<String> command;
    private final Path controlSocket;
    private final String secret;
    private final Options options;
    private final ClassDataArchive classData;

    public WorkerProcess(List<String> command, Path controlSocket, String secret, Options options,
            ClassDataArchive classData) {
        this.command = List.copyOf(command);
        this.controlSocket = controlSocket;
        this.secret = secret;
        this.options = options;
        this.classData = classData;
    }

    /**
     * The process of slot's worker of generation, among count workers asked
     * for; odd and even generations get different JDWP and JMX ports, so that
     * a replacement never takes the ports of the process it replaces.
     */
    public ProcessBuilder builder(int slot, int generation, int count) {
        int id = slot + 1;
        ClassDataArchive.ForWorker cds = classData.next();
        List<String> jvmOptions = new ArrayList<>(ProcessorShare.jvmOptions(options.cpus(), count));
        jvmOptions.addAll(MemoryShare.jvmOptions(options.shareMemory(), count));
        jvmOptions.addAll(cds.jvmOptions());
        ProcessBuilder builder = new ProcessBuilder(WorkerCommand.withJvmOptions(
                WorkerCommand.forWorker(command, id, generation % 2 == 0), jvmOptions));
        builder.inheritIO();
        Map<String, String> env = builder.environment();
        env.putAll(cds.environment());
        env.put(Environment.WORKER_ID, Integer.toString(id));
        env.put(Environment.CONTROL, controlSocket.toString());
        env.put(Environment.SECRET, secret);
        env.remove(Environment.UPGRADE); // a new master's: the old master's control socket and secret are not a worker's
        env.remove(Environment.UPGRADE_SECRET);
        env.remove(Environment.UPGRADE_WORKERS);
        env.remove("NOTIFY_SOCKET"); // the master speaks to systemd; an application that notifies by itself would confuse it
        env.remove("LISTEN_PID"); // sockets the service manager passed in are the master's (and the JDK closes them)
        env.remove("LISTEN_FDS");
        env.remove("LISTEN_FDNAMES");
        return builder;
    }
}
