package sticky.agent.route;

import java.util.ArrayList;
import java.util.List;

/**
 * The proxies whose headers are believed: a list of CIDR blocks. An IPv4
 * block matches IPv4 addresses (and IPv4-mapped IPv6 ones, which are
 * normalised to IPv4 before they get here); an IPv6 block, IPv6 addresses.
 */
public final class Trust {
    private record Block(byte[] network, int prefix) {
        boolean contains(byte[] address) {
            if (address.length != network.length) {
                return false;
            }
            int full = prefix / 8;
            for (int i = 0; i < full; i++) {
                if (address[i] != network[i]) {
                    return false;
                }
            }
            int rest = prefix % 8;
            if (rest == 0) {
                return true;
            }
            int mask = (0xff << (8 - rest)) & 0xff;
            return (address[full] & mask) == (network[full] & mask);
        }
    }

    private final List<Block> blocks;

    private Trust(List<Block> blocks) {
        this.blocks = blocks;
    }

    public static final Trust NOBODY = new Trust(List.of());

    /** Blocks such as 10.0.0.0/8, ::1 or 192.168.1.7, separated by ';'. */
    public static Trust parse(String text) {
        List<Block> blocks = new ArrayList<>();
        for (String part : text.split(";")) {
            String cidr = part.strip();
            if (cidr.isEmpty()) {
                continue;
            }
            int slash = cidr.indexOf('/');
            byte[] network = Addresses.parse(slash < 0 ? cidr : cidr.substring(0, slash));
            if (network == null) {
                throw new IllegalArgumentException("'" + cidr + "' is not an address or CIDR block");
            }
            int prefix = network.length * 8;
            if (slash >= 0) {
                String bits = cidr.substring(slash + 1);
                if (!bits.matches("\\d{1,3}") || Integer.parseInt(bits) > network.length * 8) {
                    throw new IllegalArgumentException("'" + cidr + "' has a bad prefix length");
                }
                prefix = Integer.parseInt(bits);
            }
            blocks.add(new Block(network, prefix));
        }
        return new Trust(List.copyOf(blocks));
    }

    public Trust and(Trust other) {
        List<Block> all = new ArrayList<>(blocks);
        all.addAll(other.blocks);
        return new Trust(List.copyOf(all));
    }

    public boolean isEmpty() {
        return blocks.isEmpty();
    }

    public boolean contains(byte[] address) {
        for (Block b : blocks) {
            if (b.contains(address)) {
                return true;
            }
        }
        return false;
    }
}
