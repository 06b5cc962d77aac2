package sticky.agent.common;


/**
 * Picks a worker slot from a client address: the address's hash (FNV-1a
 * over the normalised address, then MurmurHash3's finaliser), then jump
 * consistent hash (Lamping and Veach, 2014, arXiv 1406.2294) over the slot
 * count. Both depend only on the address and the count (never on the JVM,
 * the run or the live workers), so a client keeps its slot across restarts
 * of the master and of workers; and a count changed by one moves the fewest
 * clients: N to N + 1 moves about 1/(N + 1) of them, all to the new slot,
 * and N + 1 to N moves only the last slot's, back where they were. An
 * IPv4-mapped IPv6 address ({@code ::ffff:a.b.c.d}) hashes as
 * {@code a.b.c.d}. The kernel's program ({@code master.listen.SlotProgram})
 * computes the same in classic BPF.
 */
public final class ClientHash {
    /**
     * Jump's rounds at most: the slot is final once a jump lands past the
     * count, which takes about ln(N) + 1 rounds (16 at most over 30,000
     * addresses at 256 slots); past this many the last slot reached is kept.
     */
    public static final int ROUNDS = 32;
    /** Jump's pseudo-random sequence: a 32-bit linear congruential generator, whose high 16 bits are each draw. */
    public static final int LCG_MULTIPLIER = 1103515245;
    public static final int LCG_INCREMENT = 12345;

    private ClientHash() {}

    /** The slot, 0 to slots - 1, for an address of 4 or 16 bytes. */
    public static int slot(byte[] address, int slots) {
        return slot(address, address.length, slots);
    }

    /** The slot for the address in the first length (4 or 16) bytes of address. */
    public static int slot(byte[] address, int length, int slots) {
        return jump(hash(address, length), slots);
    }

    static int hash(byte[] address) {
        return hash(address, address.length);
    }

    /** FNV-1a over the normalised address, then MurmurHash3's finaliser to spread nearby addresses. */
    static int hash(byte[] address, int length) {
        int from = IpAddresses.isIpv4Mapped(address, length) ? 12 : 0;
        int h = 0x811c9dc5;
        for (int i = from; i < length; i++) {
            h ^= address[i] & 0xff;
            h *= 0x01000193;
        }
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        h ^= h >>> 16;
        return h;
    }

    /**
     * Jump consistent hash of key over buckets (1 to 256), in 32-bit
     * arithmetic so that classic BPF computes it too: from bucket b the next
     * is (b + 1) * 2^16 / (r + 1), r a 16-bit draw; the last one below
     * buckets is the key's.
     */
    static int jump(int key, int buckets) {
        int state = key;
        int bucket = 0;
        int next = 0;
        for (int round = 0; round < ROUNDS && next < buckets; round++) {
            bucket = next;
            state = state * LCG_MULTIPLIER + LCG_INCREMENT;
            next = ((bucket + 1) << 16) / ((state >>> 16) + 1);
        }
        return next < buckets ? next : bucket;
    }
}
