package sticky.agent.options;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class OptionsTest {
    private static final int PROCESSORS = Runtime.getRuntime().availableProcessors();

    @Test
    void defaultsAreOneWorkerPerProcessorAndInfoLogs() {
        assertEquals(new Options(PROCESSORS, "info", 30_000, null, sticky.agent.route.Router.IP, true, Options.CPUS_SHARE, 0, 0, 30_000, null, java.util.Set.of(), true, true), Options.parse(null));
        assertEquals(new Options(PROCESSORS, "info", 30_000, null, sticky.agent.route.Router.IP, true, Options.CPUS_SHARE, 0, 0, 30_000, null, java.util.Set.of(), true, true), Options.parse(""));
    }

    @Test
    void anOptionGivenTwiceIsRefusedButTrustAddsUp() {
        assertEquals("option 'workers' is given twice; give it once",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("workers=2,workers=3")).getMessage());
        assertEquals("option 'log' is given twice; give it once",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("log=warn,workers=2, log =info")).getMessage());
        Options.parse("route=proxy,trust=10.0.0.1,trust=10.0.0.2");
    }

    @Test
    void parsesEveryKey() {
        assertEquals(new Options(4, "debug", 30_000, null, sticky.agent.route.Router.IP, true, Options.CPUS_SHARE, 0, 0, 30_000, null, java.util.Set.of(), true, true), Options.parse("workers=4,log=DEBUG"));
        assertEquals(new Options(PROCESSORS, "warn", 30_000, null, sticky.agent.route.Router.IP, true, Options.CPUS_SHARE, 0, 0, 30_000, null, java.util.Set.of(), true, true), Options.parse(" workers = auto , log=warn"));
        assertEquals(new Options(Options.MAX_WORKERS, "info", 30_000, null, sticky.agent.route.Router.IP, true, Options.CPUS_SHARE, 0, 0, 30_000, null, java.util.Set.of(), true, true), Options.parse("workers=256"));
    }

    @Test
    void shutdownTimeoutIsADuration() {
        assertEquals(500, Options.parse("shutdown-timeout=500ms").shutdownTimeoutMs());
        assertEquals(45_000, Options.parse("shutdown-timeout=45s").shutdownTimeoutMs());
        assertEquals(45_000, Options.parse("shutdown-timeout=45").shutdownTimeoutMs());
        assertEquals(120_000, Options.parse("shutdown-timeout=2m").shutdownTimeoutMs());
        assertEquals(3_600_000, Options.parse("shutdown-timeout=1h").shutdownTimeoutMs());
        assertEquals("option 'shutdown-timeout' must be a duration such as 30s, 500ms, 2m or 12h, not '1d'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("shutdown-timeout=1d")).getMessage());
    }

    @Test
    void maxMemoryIsASizeAndMaxLifetimeADuration() {
        assertEquals(512L << 20, Options.parse("max-memory=512m").maxMemoryBytes());
        assertEquals(2L << 30, Options.parse("max-memory=2G").maxMemoryBytes());
        assertEquals(3L << 20, Options.parse("max-memory=3145728").maxMemoryBytes());
        assertEquals(0, Options.parse("max-memory=off").maxMemoryBytes());
        assertEquals(0, Options.parse("").maxMemoryBytes());
        assertEquals("option 'max-memory' must be a size of at least 1m, such as 512m or 2g, or off, not '512mb'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("max-memory=512mb")).getMessage());
        assertEquals("option 'max-memory' must be a size of at least 1m, such as 512m or 2g, or off, not '1000'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("max-memory=1000")).getMessage());
        assertEquals(12 * 3_600_000L, Options.parse("max-lifetime=12h").maxLifetimeMs());
        assertEquals(0, Options.parse("max-lifetime=off").maxLifetimeMs());
        assertEquals("option 'max-lifetime' must be more than 0, or off",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("max-lifetime=0s")).getMessage());
        assertEquals(30_000, Options.parse("").watchdogMs());
        assertEquals(5_000, Options.parse("watchdog=5s").watchdogMs());
        assertEquals(0, Options.parse("watchdog=off").watchdogMs());
        assertEquals("/health?deep=1", Options.parse("health=/health?deep=1").health());
        assertEquals(java.util.Set.of(9100, 8081), Options.parse("private=9100;8081").privatePorts());
        assertEquals(false, Options.parse("memory=all").shareMemory());
        assertEquals("option 'memory' must be share or all, not 'half'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("memory=half")).getMessage());
        assertEquals("option 'private' must be ports from 1 to 65535 separated by ';', not '9100;x'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("private=9100;x")).getMessage());
        assertEquals("option 'health' must be a path such as /health, not 'health'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("health=health")).getMessage());
        assertEquals("option 'health' needs the watchdog on and routing by client (the master reaches each worker "
                + "from an address of its slot), not watchdog=off",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("health=/h,watchdog=off")).getMessage());
    }

    @Test
    void metricsIsALoopbackPortOrAnAddress() {
        assertEquals(java.net.InetSocketAddress.createUnresolved("127.0.0.1", 9100), Options.parse("metrics=9100").metrics());
        assertEquals(java.net.InetSocketAddress.createUnresolved("0.0.0.0", 9100),
                Options.parse("metrics=0.0.0.0:9100").metrics());
        assertEquals(java.net.InetSocketAddress.createUnresolved("::1", 80), Options.parse("metrics=[::1]:80").metrics());
        assertEquals("option 'metrics' must be PORT or HOST:PORT (a port from 1 to 65535), not 'x'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("metrics=x")).getMessage());
    }

    @Test
    void routeNeedsTrustedProxies() {
        assertEquals(sticky.agent.route.Router.Mode.ROUND_ROBIN, Options.parse("route=round-robin").router().mode());
        assertEquals(sticky.agent.route.Router.Mode.PROXY,
                Options.parse("route=proxy,trust=10.0.0.0/8,trust=::1").router().mode());
        assertEquals(sticky.agent.route.Router.Mode.HEADER,
                Options.parse("route=header:X-Forwarded-For,trust=127.0.0.1;10.1.0.0/16").router().mode());
        assertEquals("option 'route=proxy' needs 'trust=' with the addresses of the proxies whose headers are believed",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("route=proxy")).getMessage());
        assertEquals("option 'route' must be ip, proxy, header:NAME or round-robin, not 'cookie'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("route=cookie,trust=::1")).getMessage());
        assertEquals("option 'trust': 'proxy.example' is not an address or CIDR block",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("trust=proxy.example")).getMessage());
        assertEquals("option 'trust': '10.0.0.0/33' has a bad prefix length",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("trust=10.0.0.0/33")).getMessage());
    }

    @Test
    void classDataIsSharedUnlessTurnedOff() {
        assertTrue(Options.parse("workers=2").cds());
        assertTrue(Options.parse("cds=on").cds());
        assertFalse(Options.parse("cds=off").cds());
        assertEquals("option 'cds' must be on or off, not 'auto'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("cds=auto")).getMessage());
    }

    @Test
    void proxyHeadersAreKeptUnlessStrippedBehindRouteProxy() {
        assertFalse(Options.parse("route=proxy,trust=::1").router().strips());
        assertFalse(Options.parse("route=proxy,trust=::1,proxy-header=keep").router().strips());
        assertTrue(Options.parse("route=proxy,trust=::1,proxy-header=strip").router().strips());
        assertEquals("option 'proxy-header' must be keep or strip, not 'drop'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("route=proxy,trust=::1,proxy-header=drop"))
                        .getMessage());
        assertEquals("option 'proxy-header=strip' needs route=proxy (it strips the PROXY header that route reads), not "
                + "route=ip", assertThrows(IllegalArgumentException.class, () -> Options.parse("proxy-header=strip"))
                        .getMessage());
    }

    @Test
    void theKernelDispatchesByClientAddressUnlessTold() {
        assertTrue(Options.parse("workers=2").kernelDispatch());
        assertTrue(Options.parse("dispatch=kernel").kernelDispatch());
        assertFalse(Options.parse("dispatch=master").kernelDispatch());
        assertFalse(Options.parse("route=round-robin").kernelDispatch());
        assertFalse(Options.parse("route=proxy,trust=::1").kernelDispatch());
        assertEquals("option 'dispatch=kernel' routes by the client's address only: route=round-robin needs dispatch=master",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("route=round-robin,dispatch=kernel"))
                        .getMessage());
        assertEquals("option 'dispatch' must be kernel or master, not 'nginx'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("dispatch=nginx")).getMessage());
    }

    @Test
    void workersShareTheProcessorsUnlessTold() {
        assertEquals(Options.CPUS_SHARE, Options.parse("cpus=share").cpus());
        assertEquals(Options.CPUS_ALL, Options.parse("cpus=all").cpus());
        assertEquals(3, Options.parse("workers=2,cpus=3").cpus());
        for (String bad : new String[] {"0", "-1", "4097", "half", ""}) {
            assertEquals("option 'cpus' must be share, all or a count from 1 to 4096, not '" + bad + "'",
                    assertThrows(IllegalArgumentException.class, () -> Options.parse("cpus=" + bad)).getMessage());
        }
    }

    @Test
    void errorsNameTheOption() {
        assertEquals("unknown option 'wrokers' (options: workers, log, shutdown-timeout, metrics, route, trust, dispatch, cpus, max-memory, max-lifetime, watchdog, health, private, memory, proxy-header, cds)",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("wrokers=2")).getMessage());
        assertEquals("option 'workers' must be a count from 1 to 256 or 'auto', not '257'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("workers=257")).getMessage());
        assertEquals("option 'workers' must be a count from 1 to 256 or 'auto', not '-1'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("workers=-1")).getMessage());
        assertEquals("option 'workers' must be a count from 1 to 256 or 'auto', not ''",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("workers=")).getMessage());
        assertEquals("option '' is not key=value (options: workers, log, shutdown-timeout, metrics, route, trust, dispatch, cpus, max-memory, max-lifetime, watchdog, health, private, memory, proxy-header, cds)",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("workers=2,")).getMessage());
    }

    @Test
    void numbersAreAsciiDigitsWithoutSignAndSizesDoNotOverflow() {
        for (String bad : new String[] {"workers=+2", "workers=\u0662", "workers=\uff12", "cpus=+1", "cpus=\u0661"}) {
            String key = bad.substring(0, bad.indexOf('='));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> Options.parse(bad)).getMessage()
                    .startsWith("option '" + key + "' must be"), bad);
        }
        assertEquals("option 'trust': '\u0661\u0662\u0667.0.0.1' is not an address or CIDR block",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("trust=\u0661\u0662\u0667.0.0.1"))
                        .getMessage());
        assertEquals("option 'max-memory' must be at most 1048576g, not '17179869185g'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("max-memory=17179869185g")).getMessage(),
                "(2^34 + 1) GiB wrapped to 1 GiB");
        assertEquals("option 'max-memory' must be at most 1048576g, not '999999999999g'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("max-memory=999999999999g")).getMessage());
        assertEquals(1L << 40, Options.parse("max-memory=1024g").maxMemoryBytes());
    }

    @Test
    void metricsNeedsAPortOfItsOwnAndAnErrorIsOneLine() {
        assertEquals("option 'metrics' must be PORT or HOST:PORT (a port from 1 to 65535), not '0'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("metrics=0")).getMessage(),
                "port 0 would be a random port");
        assertEquals("option 'log' must be one of off, error, warn, info, debug, trace, not 'info\\nworkers=9'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("log=info\nworkers=9")).getMessage());
        assertEquals("option 'health' must be a path such as /health, not '/a\\u0000b'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("health=/a\u0000b")).getMessage());
    }
}
