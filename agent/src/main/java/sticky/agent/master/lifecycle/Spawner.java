package sticky.agent.master.lifecycle;

import java.io.IOException;

/** Starts worker processes: the lifecycle's seam, which its unit tests fill with fakes. */
public interface Spawner {
    WorkerProcess spawn(int slot, int generation) throws IOException;

    /** A started worker process. */
    interface WorkerProcess {
        long pid();

        /** SIGTERM. */
        void terminate();

        /** SIGKILL. */
        void kill();

        /** SIGQUIT: a JVM prints its threads' stacks to its output and goes on. */
        void quit();
    }
}
