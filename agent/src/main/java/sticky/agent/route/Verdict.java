package sticky.agent.route;

/**
 * What the first bytes of a connection say about its client: the client's
 * address (4 or 16 bytes) and, from a PROXY header, its port; "use the TCP
 * peer"; "wait for more bytes"; or, for a PROXY header that starts right and
 * then goes wrong, "malformed". header: how many bytes the PROXY header
 * takes, for a CLIENT and for a PEER that was one (LOCAL, UNKNOWN); 0 for
 * any other.
 */
public record Verdict(Kind kind, byte[] client, int port, int header) {
    public enum Kind { CLIENT, PEER, MORE, MALFORMED }

    public static final Verdict PEER = new Verdict(Kind.PEER, null, 0, 0);
    public static final Verdict MORE = new Verdict(Kind.MORE, null, 0, 0);
    public static final Verdict MALFORMED = new Verdict(Kind.MALFORMED, null, 0, 0);

    /** A client named by a request header: the stream keeps it. */
    static Verdict client(byte[] address) {
        return address == null ? PEER : new Verdict(Kind.CLIENT, address, 0, 0);
    }

    /** A client named by a PROXY header of header bytes. */
    static Verdict proxied(byte[] address, int port, int header) {
        return address == null ? MALFORMED : new Verdict(Kind.CLIENT, address, port, header);
    }

    /** A PROXY header of header bytes that names no client (LOCAL, UNKNOWN): the proxy's own connection. */
    static Verdict local(int header) {
        return new Verdict(Kind.PEER, null, 0, header);
    }
}
