import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicLong;

/**
 * New connections as fast as THREADS threads can open them for SECONDS: each
 * connects, waits for the server to close, and closes. Prints connections per
 * second. Connections leave from SOURCES loopback addresses 127.0.N.1 in turn
 * (1: 127.0.0.1 only). Usage: java Flood.java PORT SECONDS THREADS [SOURCES]
 */
public class Flood {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        long end = System.nanoTime() + Long.parseLong(args[1]) * 1_000_000_000L;
        AtomicLong done = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        int sources = args.length > 3 ? Integer.parseInt(args[3]) : 1;
        AtomicLong next = new AtomicLong();
        Thread[] threads = new Thread[Integer.parseInt(args[2])];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> {
                byte[] buffer = new byte[64];
                while (System.nanoTime() < end) {
                    try (Socket s = new Socket()) {
                        s.setSoLinger(true, 0); // no TIME_WAIT pile-up on the client side
                        if (sources > 1) {
                            s.bind(new InetSocketAddress("127.0." + (next.getAndIncrement() % sources) + ".1", 0));
                        }
                        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                        s.setSoTimeout(5000);
                        InputStream in = s.getInputStream();
                        while (in.read(buffer) >= 0) {
                            // until the server closes
                        }
                        done.incrementAndGet();
                    } catch (Exception e) {
                        failed.incrementAndGet();
                    }
                }
            });
            threads[t].start();
        }
        long start = System.nanoTime();
        for (Thread t : threads) {
            t.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("%.0f %d%n", done.get() / seconds, failed.get());
    }
}
