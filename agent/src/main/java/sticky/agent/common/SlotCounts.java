package sticky.agent.common;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Connections each slot's workers accepted from the kernel (kernel dispatch:
 * the master never sees them), and those they took from the master (master
 * dispatch: the master sees them handed, not taken): two longs per slot in a
 * file in the master's private directory that the master and its workers
 * map. A worker adds with an atomic update on the mapping, no system call;
 * the master reads when asked (status, metrics, the watchdog).
 */
public final class SlotCounts {
    public static final String FILE = "counts";
    /** Atomic access to a direct buffer's aligned longs (java.lang.invoke, JDK 9 and later). */
    private static final VarHandle LONGS = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.nativeOrder());

    private final MappedByteBuffer counts;
    private final int slots;

    private SlotCounts(MappedByteBuffer counts) {
        this.counts = counts;
        this.slots = counts.capacity() / 16;
    }

    /**
     * The master's: a new file of zeros, one count per slot, written out
     * before it is mapped. A mapping of a file with no room behind it (a
     * sparse file on a full file system) kills the process that writes to
     * it with SIGBUS: here a full temp directory fails the master's start
     * instead, with the reason, before any worker exists.
     */
    public static SlotCounts create(Path file, int slots) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            ByteBuffer zeros = ByteBuffer.allocate(16 * slots);
            while (zeros.hasRemaining()) {
                channel.write(zeros, zeros.position());
            }
            channel.force(false);
            return new SlotCounts(channel.map(FileChannel.MapMode.READ_WRITE, 0, 16L * slots));
        } catch (IOException e) {
            throw new IOException("cannot make " + file + " (" + e.getMessage()
                    + "): the master's directory needs room for it ($TMPDIR, or /tmp)", e);
        }
    }

    /** A worker's: the master's file. */
    public static SlotCounts open(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            return new SlotCounts(channel.map(FileChannel.MapMode.READ_WRITE, 0, channel.size()));
        }
    }

    /** One more connection accepted from slot's listening socket. */
    public void accepted(int slot) {
        LONGS.getAndAdd(counts, slot * 8, 1L);
    }

    /** One more connection taken from the master's handoff. */
    public void taken(int slot) {
        LONGS.getAndAdd(counts, (slots + slot) * 8, 1L);
    }

    public long acceptedBy(int slot) {
        return (long) LONGS.getVolatile(counts, slot * 8);
    }

    public long takenBy(int slot) {
        return (long) LONGS.getVolatile(counts, (slots + slot) * 8);
    }
}
