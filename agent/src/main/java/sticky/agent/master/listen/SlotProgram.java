package sticky.agent.master.listen;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import sticky.agent.common.ClientHash;

/**
 * A classic BPF program for a group of SO_REUSEPORT listening sockets (Linux
 * SO_ATTACH_REUSEPORT_CBPF, 4.5 and later): the kernel runs it on each new
 * connection's SYN and queues the connection on the socket whose index it
 * returns. It computes {@link ClientHash#slot} of the source address, read
 * from the IP header (4 or 16 bytes, at SKF_NET_OFF + 12 or + 8), and returns
 * the socket index the master chose for that slot: its own, or the next live
 * slot's while it has no worker. An IPv4 client of a dual-stack socket sends
 * an IPv4 header, so it hashes as its four bytes, as ClientHash hashes an
 * IPv4-mapped address.
 */
final class SlotProgram {
    /** Classic BPF opcodes, linux/filter.h. */
    static final int LD = 0x00, LDX = 0x01, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
    static final int W = 0x00, B = 0x10, IMM = 0x00, ABS = 0x20;
    static final int ADD = 0x00, MUL = 0x20, RSH = 0x70, MOD = 0x90, XOR = 0xa0, K = 0x00, X = 0x08;
    static final int JA = 0x00, JEQ = 0x10, JSET = 0x40, RET_A = 0x10, TAX = 0x00;
    /** Loads at SKF_NET_OFF + n read the network header. */
    static final int NET = -0x100000;
    static final int INSTRUCTION_SIZE = 8;

    private SlotProgram() {}

    /**
     * The program for target.length slots: a client of slot i goes to socket
     * target[i]. Each instruction is struct sock_filter {u16 code; u8 jt; u8 jf; u32 k},
     * in the machine's byte order.
     */
    static ByteBuffer build(int[] target) {
        int slots = target.length;
        ByteBuffer p = ByteBuffer.allocate((101 + 2 * slots) * INSTRUCTION_SIZE)
                .order(ByteOrder.nativeOrder());
        put(p, LD | B | ABS, 0, 0, NET); // the IP version, in the high nibble
        put(p, ALU | RSH | K, 0, 0, 4);
        put(p, LDX | W | IMM, 0, 0, 0x811c9dc5); // FNV-1a's offset basis, kept in X
        put(p, JMP | JEQ | K, 0, 16 * 4 + 1, 6); // IPv6, or on to the IPv4 loads
        fnv(p, 8, 16);
        put(p, JMP | JA, 0, 0, 4 * 4); // over the IPv4 loads
        fnv(p, 12, 4);
        // MurmurHash3's finaliser, with A = X = the FNV hash
        for (int[] step : new int[][] {{16, 0x85ebca6b}, {13, 0xc2b2ae35}}) {
            put(p, MISC | TAX, 0, 0, 0);
            put(p, ALU | RSH | K, 0, 0, step[0]);
            put(p, ALU | XOR | X, 0, 0, 0);
            put(p, ALU | MUL | K, 0, 0, step[1]);
        }
        put(p, MISC | TAX, 0, 0, 0);
        put(p, ALU | RSH | K, 0, 0, 16);
        put(p, ALU | XOR | X, 0, 0, 0);
        // Math.floorMod(hash, slots) with unsigned arithmetic: a negative hash h is 2^32 + h unsigned,
        // so its floorMod is (u % slots + slots - 2^32 % slots) % slots.
        put(p, JMP | JSET | K, 0, 2, 0x80000000);
        put(p, ALU | MOD | K, 0, 0, slots);
        put(p, ALU | ADD | K, 0, 0, (int) (slots - (1L << 32) % slots));
        put(p, ALU | MOD | K, 0, 0, slots);
        for (int slot = 0; slot < slots; slot++) {
            put(p, JMP | JEQ | K, 0, 1, slot);
            put(p, RET | K, 0, 0, target[slot]);
        }
        put(p, RET | K, 0, 0, 0);
        return p.flip();
    }

    /** A = X = FNV-1a over count bytes of the network header from offset, starting from X. */
    private static void fnv(ByteBuffer p, int offset, int count) {
        for (int i = 0; i < count; i++) {
            put(p, LD | B | ABS, 0, 0, NET + offset + i);
            put(p, ALU | XOR | X, 0, 0, 0);
            put(p, ALU | MUL | K, 0, 0, 0x01000193);
            put(p, MISC | TAX, 0, 0, 0);
        }
    }

    private static void put(ByteBuffer p, int code, int jt, int jf, int k) {
        p.putShort((short) code).put((byte) jt).put((byte) jf).putInt(k);
    }
}
