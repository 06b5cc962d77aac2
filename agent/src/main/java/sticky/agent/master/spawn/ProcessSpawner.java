package sticky.agent.master.spawn;

import java.io.IOException;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import sticky.agent.master.lifecycle.Spawner;
import sticky.agent.unix.Libc;

/** Starts worker JVMs and reports each one's exit, with its code, to onExit (off the loop: it posts). */
public final class ProcessSpawner implements Spawner {
    /** What a process exit is told with: its pid and exit code. */
    public interface Exits {
        void exited(long pid, int code);
    }

    private final BiFunction<Integer, Integer, ProcessBuilder> command;
    private final BiConsumer<ProcessBuilder, Process> started;
    private final Exits onExit;

    /** command: the worker command for a slot and a generation; started: told of each process it started. */
    public ProcessSpawner(BiFunction<Integer, Integer, ProcessBuilder> command, BiConsumer<ProcessBuilder, Process> started,
            Exits onExit) {
        this.command = command;
        this.started = started;
        this.onExit = onExit;
    }

    @Override
    public Spawner.WorkerProcess spawn(int slot, int generation) throws IOException {
        ProcessBuilder builder = command.apply(slot, generation);
        Process process = builder.start();
        started.accept(builder, process);
        process.onExit().thenRun(() -> onExit.exited(process.pid(), process.exitValue()));
        return new Spawner.WorkerProcess() {
            @Override
            public long pid() {
                return process.pid();
            }

            @Override
            public void terminate() {
                process.destroy();
            }

            @Override
            public void kill() {
                process.destroyForcibly();
            }

            @Override
            public void quit() {
                if (process.isAlive()) { // not reaped, so the pid is still this process's
                    Libc.kill((int) process.pid(), Libc.SIGQUIT);
                }
            }
        };
    }
}
