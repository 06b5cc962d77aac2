import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * HTTP requests on new connections at a fixed rate, for latency below
 * saturation (wrk measures at saturation). Request i is due at start + i/rate;
 * its latency runs from when it was due to the end of the response, so a
 * request that starts late because the server was slow counts the wait
 * (no coordinated omission). The first second is warm-up and not counted.
 * Connections leave from SOURCES loopback addresses 127.0.N.1 in turn (1: the
 * kernel's choice, 127.0.0.1). Prints "p50_us p99_us failed".
 * Usage: java Paced.java PORT RATE SECONDS [SOURCES]
 */
public class Paced {
    private static final int THREADS = 64;
    private static final byte[] REQUEST = "GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        double rate = Double.parseDouble(args[1]);
        int total = (int) (rate * (Integer.parseInt(args[2]) + 1));
        int warmUp = (int) rate;
        int sources = args.length > 3 ? Integer.parseInt(args[3]) : 1;
        long[] latencies = new long[total];
        AtomicInteger next = new AtomicInteger();
        AtomicLong failed = new AtomicLong();
        long start = System.nanoTime() + 10_000_000;
        Thread[] threads = new Thread[THREADS];
        for (int t = 0; t < THREADS; t++) {
            threads[t] = new Thread(() -> {
                byte[] buffer = new byte[4096];
                int i;
                while ((i = next.getAndIncrement()) < total) {
                    long due = start + (long) (i * 1e9 / rate);
                    long wait;
                    while ((wait = due - System.nanoTime()) > 0) {
                        LockSupport.parkNanos(wait);
                    }
                    try (Socket s = new Socket()) {
                        s.setSoLinger(true, 0); // no TIME_WAIT pile-up on the client side
                        if (sources > 1) {
                            s.bind(new InetSocketAddress("127.0." + (i % sources) + ".1", 0));
                        }
                        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                        s.setSoTimeout(5000);
                        OutputStream out = s.getOutputStream();
                        out.write(REQUEST);
                        InputStream in = s.getInputStream();
                        while (in.read(buffer) >= 0) {
                            // until the server closes
                        }
                        latencies[i] = System.nanoTime() - due;
                    } catch (Exception e) {
                        failed.incrementAndGet();
                        latencies[i] = Long.MAX_VALUE;
                    }
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        long[] measured = Arrays.copyOfRange(latencies, warmUp, total);
        Arrays.sort(measured);
        System.out.printf("%d %d %d%n", measured[measured.length / 2] / 1000,
                measured[(int) (measured.length * 0.99)] / 1000, failed.get());
    }
}
