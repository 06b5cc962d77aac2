package sticky.agent.common;


/**
 * Picks a worker slot from a client address. The hash depends only on the
 * address bytes (never on the JVM, the run or the live workers), so a client
 * keeps its slot across restarts of the master and of workers. An
 * IPv4-mapped IPv6 address ({@code ::ffff:a.b.c.d}) hashes as {@code a.b.c.d}.
 */
public final class ClientHash {
    private ClientHash() {}

    /** The slot, 0 to slots - 1, for an address of 4 or 16 bytes. */
    public static int slot(byte[] address, int slots) {
        return slot(address, address.length, slots);
    }

    /** The slot for the address in the first length (4 or 16) bytes of address. */
    public static int slot(byte[] address, int length, int slots) {
        return Math.floorMod(hash(address, length), slots);
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
}
