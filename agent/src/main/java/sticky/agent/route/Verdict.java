package sticky.agent.route;

/**
 * What the first bytes of a connection say about its client: the client's
 * address (4 or 16 bytes), "use the TCP peer", or "wait for more bytes".
 */
public record Verdict(Kind kind, byte[] client) {
    public enum Kind { CLIENT, PEER, MORE }

    public static final Verdict PEER = new Verdict(Kind.PEER, null);
    public static final Verdict MORE = new Verdict(Kind.MORE, null);

    static Verdict client(byte[] address) {
        return address == null ? PEER : new Verdict(Kind.CLIENT, address);
    }
}
