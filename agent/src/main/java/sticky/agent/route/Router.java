package sticky.agent.route;

import java.util.Locale;

/**
 * The route= option: what a connection is routed by. {@code ip}: the TCP peer.
 * {@code proxy}: the PROXY protocol header a trusted proxy puts first.
 * {@code header:NAME}: an HTTP request header a trusted proxy sets. Only
 * connections whose TCP peer is trusted are looked at; anyone else is routed
 * by its own address, so no client can pick its worker by forging a header.
 * {@code round-robin}: no stickiness at all, each connection to the next
 * worker, as Node's cluster does (for stateless servers). strips: with
 * route=proxy, proxy-header=strip: the master consumes a trusted proxy's
 * PROXY header and tells the worker the client it names as the peer.
 */
public final class Router {
    public enum Mode { IP, PROXY, HEADER, ROUND_ROBIN }

    private final Mode mode;
    private final Trust trust;
    private final ForwardedHeader header;
    private final boolean strips;

    private Router(Mode mode, Trust trust, String headerName, boolean strips) {
        this.mode = mode;
        this.trust = trust;
        this.strips = strips;
        this.header = headerName == null ? null : new ForwardedHeader(headerName, trust);
    }

    public static final Router IP = new Router(Mode.IP, Trust.NOBODY, null, false);
    public static final Router ROUND_ROBIN = new Router(Mode.ROUND_ROBIN, Trust.NOBODY, null, false);

    /** From the option values; IllegalArgumentException with a message naming the option. */
    public static Router of(String route, Trust trust, boolean strip) {
        String value = route.strip();
        if (strip && !value.equals("proxy")) {
            throw new IllegalArgumentException("option 'proxy-header=strip' needs route=proxy (it strips the PROXY "
                    + "header that route reads), not route=" + value);
        }
        Mode mode;
        String name = null;
        if (value.equals("ip")) {
            return IP;
        } else if (value.equals("round-robin")) {
            return ROUND_ROBIN;
        } else if (value.equals("proxy")) {
            mode = Mode.PROXY;
        } else if (value.toLowerCase(Locale.ROOT).startsWith("header:") && value.substring(7).matches("[A-Za-z0-9!#$%&'*+.^_`|~-]+")) {
            mode = Mode.HEADER;
            name = value.substring(7);
        } else {
            throw new IllegalArgumentException("option 'route' must be ip, proxy, header:NAME or round-robin, not '" + route + "'");
        }
        if (trust.isEmpty()) {
            throw new IllegalArgumentException("option 'route=" + value
                    + "' needs 'trust=' with the addresses of the proxies whose headers are believed");
        }
        return new Router(mode, trust, name, strip);
    }

    public Mode mode() {
        return mode;
    }

    public boolean strips() {
        return strips;
    }

    /** Whether this connection's first bytes are worth reading: its peer is a trusted proxy. */
    public boolean peeks(byte[] peer) {
        return (mode == Mode.PROXY || mode == Mode.HEADER) && trust.contains(peer);
    }

    /** How many bytes to peek at most. */
    public int window() {
        return mode == Mode.PROXY ? 128 : ForwardedHeader.MAX_HEAD;
    }

    public Verdict decide(byte[] bytes, int length) {
        return mode == Mode.PROXY ? ProxyProtocol.parse(bytes, length) : header.parse(bytes, length);
    }
}
