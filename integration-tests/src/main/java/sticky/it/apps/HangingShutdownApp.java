package sticky.it.apps;

import java.util.concurrent.CountDownLatch;

/** Serves like ChannelApp, but its shutdown hook never finishes. Args: port. */
public final class HangingShutdownApp {
    public static void main(String[] args) throws Exception {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("shutdown hook hangs");
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException ignored) {
                // killed
            }
        }));
        ChannelApp.main(args);
    }
}
