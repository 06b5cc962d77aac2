package sticky.agent.master.listen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;
import sticky.agent.common.ClientHash;
import sticky.agent.options.Options;

/**
 * The program against ClientHash, run by a classic BPF interpreter for the
 * instructions it uses (the kernel's semantics: 32-bit unsigned arithmetic,
 * jumps relative to the next instruction, loads past the packet end the
 * program with 0). The kernel runs the same bytes in the integration tests.
 */
class SlotProgramTest {
    private static final Random RANDOM = new Random(6);

    @Test
    void aClientGoesToTheSocketOfItsSlotForEveryCountIpv4AndIpv6() {
        for (int slots = 1; slots <= Options.MAX_WORKERS; slots++) {
            int[] identity = new int[slots];
            for (int i = 0; i < slots; i++) {
                identity[i] = i;
            }
            ByteBuffer program = SlotProgram.build(identity);
            for (int n = 0; n < 400; n++) {
                byte[] address = new byte[n % 2 == 0 ? 4 : 16];
                RANDOM.nextBytes(address);
                int count = slots;
                assertEquals(ClientHash.slot(address, slots), run(program, ipHeader(address)), () -> count + " slots");
            }
        }
    }

    @Test
    void aSlotCanBeSentToAnotherSocket() {
        ByteBuffer program = SlotProgram.build(new int[] {0, 2, 2});
        for (int n = 0; n < 2000; n++) {
            byte[] address = new byte[4];
            RANDOM.nextBytes(address);
            int slot = ClientHash.slot(address, 3);
            assertEquals(slot == 1 ? 2 : slot, run(program, ipHeader(address)));
        }
    }

    /**
     * BPF_MAXINSNS is 4096 classic instructions; and the kernel charges the
     * program it converts them to (net/core/filter.c's bpf_convert_filter:
     * struct bpf_prog, then 8 bytes per instruction) against
     * net.core.optmem_max, 20480 bytes on older kernels. An upper bound of
     * the converted length: a load from the network header (a helper's call
     * and its check) 10 instructions, a division by X 5 (with its check for
     * zero), a return 2, anything else 1, and 16 for the prologue. Measured
     * on Linux 6.18: the 256-slot program was refused (ENOMEM) with
     * net.core.optmem_max at 13056 and attached at 13312; this bound says
     * 13560.
     */
    @Test
    void theLargestProgramFitsTheKernelsLimits() {
        ByteBuffer program = SlotProgram.build(new int[Options.MAX_WORKERS]);
        int instructions = program.remaining() / SlotProgram.INSTRUCTION_SIZE;
        assertTrue(instructions <= 4096, instructions + " instructions: BPF_MAXINSNS is 4096");
        int converted = 16;
        for (int i = 0; i < instructions; i++) {
            int code = Short.toUnsignedInt(program.getShort(i * SlotProgram.INSTRUCTION_SIZE));
            converted += (code & 0x07) == SlotProgram.LD && (code & 0xe0) == SlotProgram.ABS ? 10
                    : code == (SlotProgram.ALU | SlotProgram.DIV | SlotProgram.X) ? 5
                    : (code & 0x07) == SlotProgram.RET ? 2 : 1;
        }
        int bytes = 72 + 8 * converted; // sizeof(struct bpf_prog) on x86_64 and arm64, then the instructions
        assertTrue(bytes < 20480, bytes + " bytes converted: older kernels' net.core.optmem_max is 20480");
    }

    /** An IPv4 (20 bytes) or IPv6 (40 bytes) header with this source address. */
    private static byte[] ipHeader(byte[] source) {
        byte[] header = new byte[source.length == 4 ? 20 : 40];
        RANDOM.nextBytes(header);
        header[0] = (byte) (source.length == 4 ? 0x45 : 0x60 | (header[0] & 0x0f));
        System.arraycopy(source, 0, header, source.length == 4 ? 12 : 8, source.length);
        return header;
    }

    private static int run(ByteBuffer program, byte[] network) {
        int a = 0, x = 0, pc = 0;
        int[] memory = new int[16];
        boolean[] stored = new boolean[16];
        while (true) {
            int at = pc * SlotProgram.INSTRUCTION_SIZE;
            int code = Short.toUnsignedInt(program.getShort(at));
            int jt = Byte.toUnsignedInt(program.get(at + 2)), jf = Byte.toUnsignedInt(program.get(at + 3));
            int k = program.getInt(at + 4);
            pc++;
            switch (code & 0x07) {
                case SlotProgram.LD -> {
                    int offset = k - SlotProgram.NET;
                    if ((code & 0xe0) == SlotProgram.IMM) {
                        a = k;
                    } else if ((code & 0xe0) == SlotProgram.MEM) {
                        assertTrue(stored[k], "M[" + k + "] loaded before it was stored (the kernel refuses that)");
                        a = memory[k];
                    } else if (offset < 0 || offset >= network.length) {
                        return 0;
                    } else {
                        a = network[offset] & 0xff;
                    }
                }
                case SlotProgram.LDX -> x = k;
                case SlotProgram.ST -> {
                    memory[k] = a;
                    stored[k] = true;
                }
                case SlotProgram.ALU -> {
                    int operand = (code & SlotProgram.X) != 0 ? x : k;
                    a = switch (code & 0xf0) {
                        case SlotProgram.ADD -> a + operand;
                        case SlotProgram.MUL -> a * operand;
                        case SlotProgram.DIV -> operand == 0 ? 0 : Integer.divideUnsigned(a, operand);
                        case SlotProgram.LSH -> a << operand;
                        case SlotProgram.RSH -> a >>> operand;
                        case SlotProgram.XOR -> a ^ operand;
                        default -> throw new AssertionError("ALU op " + code);
                    };
                }
                case SlotProgram.JMP -> {
                    switch (code & 0xf0) {
                        case SlotProgram.JA -> pc += k;
                        case SlotProgram.JEQ -> pc += a == k ? jt : jf;
                        case SlotProgram.JGE -> pc += Integer.compareUnsigned(a, k) >= 0 ? jt : jf;
                        default -> throw new AssertionError("jump " + code);
                    }
                }
                case SlotProgram.RET -> {
                    return (code & 0x18) == SlotProgram.RET_A ? a : k;
                }
                case SlotProgram.MISC -> x = a;
                default -> throw new AssertionError("instruction " + code);
            }
        }
    }
}
