package sticky.agent.master.listen;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import sticky.agent.common.ClientHash;

/**
 * A classic BPF program for a group of SO_REUSEPORT listening sockets (Linux
 * SO_ATTACH_REUSEPORT_CBPF, 4.5 and later): the kernel runs it on each new
 * connection's SYN (or datagram) and queues it on the socket whose index it
 * returns. It computes {@link ClientHash#slot} of the source address, read
 * from the IP header (4 or 16 bytes, at SKF_NET_OFF + 12 or + 8), over the
 * slots routed now, and returns the socket index the master chose for that
 * slot: its own, or the next live slot's while it has no worker. An IPv4
 * client of a dual-stack socket sends an IPv4 header, so it hashes as its
 * four bytes, as ClientHash hashes an IPv4-mapped address. Jump's rounds are
 * unrolled (classic BPF has no loops; forward jumps only): a round whose
 * bucket is already past the count is jumped over. The scratch words M[0],
 * M[1] and M[2] hold the bucket, the next bucket and the generator's state;
 * each is stored before any path loads it (the kernel's check).
 */
final class SlotProgram {
    /** Classic BPF opcodes, linux/bpf_common.h and linux/filter.h. */
    static final int LD = 0x00, LDX = 0x01, ST = 0x02, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
    static final int W = 0x00, B = 0x10, IMM = 0x00, ABS = 0x20, MEM = 0x60;
    static final int ADD = 0x00, MUL = 0x20, DIV = 0x30, LSH = 0x60, RSH = 0x70, XOR = 0xa0, K = 0x00, X = 0x08;
    static final int JA = 0x00, JEQ = 0x10, JGE = 0x30, RET_A = 0x10, TAX = 0x00;
    /** Loads at SKF_NET_OFF + n read the network header. */
    static final int NET = -0x100000;
    static final int INSTRUCTION_SIZE = 8;
    /** The scratch words: the bucket, the next bucket, the generator's state. */
    private static final int BUCKET = 0, NEXT = 1, STATE = 2;
    /** The instructions of a round after its test. */
    private static final int ROUND_BODY = 13;

    private SlotProgram() {}

    /**
     * The program for target.length slots: a client of slot i goes to socket
     * target[i]. Each instruction is struct sock_filter {u16 code; u8 jt; u8 jf; u32 k},
     * in the machine's byte order.
     */
    static ByteBuffer build(int[] target) {
        int slots = target.length;
        ByteBuffer p = ByteBuffer.allocate((96 + 4 + (2 + ROUND_BODY) * ClientHash.ROUNDS + 3 + 2 * slots + 1)
                * INSTRUCTION_SIZE).order(ByteOrder.nativeOrder());
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
        // Jump consistent hash of A over the slots (ClientHash.jump): state = hash, bucket = next = 0.
        put(p, ST, 0, 0, STATE);
        put(p, LD | W | IMM, 0, 0, 0);
        put(p, ST, 0, 0, NEXT);
        put(p, ST, 0, 0, BUCKET);
        for (int round = 0; round < ClientHash.ROUNDS; round++) {
            put(p, LD | W | MEM, 0, 0, NEXT);
            put(p, JMP | JGE | K, ROUND_BODY, 0, slots); // landed past the count: nothing more to do
            put(p, ST, 0, 0, BUCKET);
            put(p, LD | W | MEM, 0, 0, STATE);
            put(p, ALU | MUL | K, 0, 0, ClientHash.LCG_MULTIPLIER);
            put(p, ALU | ADD | K, 0, 0, ClientHash.LCG_INCREMENT);
            put(p, ST, 0, 0, STATE);
            put(p, ALU | RSH | K, 0, 0, 16);
            put(p, ALU | ADD | K, 0, 0, 1);
            put(p, MISC | TAX, 0, 0, 0); // X = the draw + 1
            put(p, LD | W | MEM, 0, 0, BUCKET);
            put(p, ALU | ADD | K, 0, 0, 1);
            put(p, ALU | LSH | K, 0, 0, 16);
            put(p, ALU | DIV | X, 0, 0, 0);
            put(p, ST, 0, 0, NEXT);
        }
        put(p, LD | W | MEM, 0, 0, NEXT);
        put(p, JMP | JGE | K, 0, 1, slots); // still below the count after every round: that is the slot
        put(p, LD | W | MEM, 0, 0, BUCKET);
        for (int slot = 0; slot < slots; slot++) {
            put(p, JMP | JEQ | K, 0, 1, slot);
            put(p, RET | K, 0, 0, target[slot]);
        }
        put(p, RET | K, 0, 0, 0); // never reached, but each jump must land inside the program (bpf_check_classic)
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
