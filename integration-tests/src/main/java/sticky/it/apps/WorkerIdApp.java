package sticky.it.apps;

/** Prints what sticky documents a worker can read about itself, then serves like ChannelApp. Args: port. */
public final class WorkerIdApp {
    public static void main(String[] args) throws Exception {
        System.out.println("worker property=" + System.getProperty("sticky.worker.id") + " env="
                + System.getenv("STICKY_WORKER_ID") + " pid=" + ProcessHandle.current().pid());
        ChannelApp.main(args);
    }
}
