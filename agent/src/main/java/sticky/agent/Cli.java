package sticky.agent;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import sticky.agent.common.ControlPaths;
import sticky.agent.common.Version;

/**
 * {@code java -jar sticky.jar status [--json] | reload [--wait] | stop | upgrade | scale N [PID]}, {@code --help}, {@code --version}: the operator's
 * command line. It finds this user's running masters by their directories and
 * asks through the master's admin socket. Exit codes: 0 done, 1 the master
 * refused or failed, 2 usage, 3 no such master.
 */
public final class Cli {
    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;
    static final int NO_MASTER = 3;
    private static final long STOP_WAIT_MINUTES = 10;

    private static final String HELP = """
            sticky clusters an unmodified JVM server with sticky, IP-hash routing.
            It is a Java agent; start your server with it:

                java -javaagent:sticky.jar=workers=4 -jar your-app.jar

            Options (comma-separated key=value; each at most once, but trust):
                workers=N|auto             worker JVMs to run, 1 to 256 (default: auto, the number of processors)
                log=LEVEL                  sticky's log level: off, error, warn, info (default), debug, trace
                shutdown-timeout=DURATION  how long a leaving worker gets to finish its requests, and then to
                                           stop: 30s (default), 500ms, 2m, or seconds
                metrics=[HOST:]PORT        Prometheus text at /metrics (HOST defaults to 127.0.0.1; default: off)
                route=ROUTE                what a connection is routed by: ip (default, the TCP peer), proxy
                                           (a trusted proxy's PROXY v1/v2 header), header:NAME (a trusted
                                           proxy's HTTP header, such as header:X-Forwarded-For), round-robin
                trust=ADDRESS[;ADDRESS]    the proxies route=proxy and route=header believe: addresses or CIDR
                                           blocks (required with those routes; may be given several times)
                proxy-header=keep|strip    with route=proxy: keep the PROXY header for the application (default),
                                           or strip it and give the application the client as the peer
                dispatch=kernel|master     who hands connections to workers: the kernel (default with route=ip)
                                           or the master (every route)
                cpus=share|all|N           the processors each worker counts: its share (default), all, or N
                memory=share|all           the memory each worker sizes its heap for: its share (default), or all
                watchdog=DURATION|off      restart a worker whose clients wait that long while it takes none
                                           (default 30s)
                health=PATH                the watchdog also GETs PATH from each worker; no 2xx/3xx in time: hung
                private=PORT[;PORT]        ports not clustered: worker N binds PORT + N (management, metrics)
                max-memory=SIZE|off        replace a worker whose PSS stays above SIZE (512m, 2g; default off)
                max-lifetime=DURATION|off  replace each worker once it has served this long (12h; default off)
                cds=on|off                 workers share an AOT cache of the classes (JDK 25+; default on)

            Commands to a running master of yours (PID needed only when you run several):
                java -jar sticky.jar status [--json] [PID]   listeners and workers
                java -jar sticky.jar reload [--wait] [PID]   rolling restart, as SIGHUP; --wait: until it is over
                                                             (exit 0 when every worker was replaced, 1 with why not)
                java -jar sticky.jar stop [PID]              graceful stop, as SIGTERM; waits until it is done
                java -jar sticky.jar upgrade [PID]           a new master (the command line and jars as on disk now)
                                                             takes over the sockets; waits until the old one is gone
                java -jar sticky.jar scale N|+N|-N [PID]     the count of workers, while serving (SIGTTIN: one more,
                                                             SIGTTOU: one fewer); waits until it serves with them
                java -jar sticky.jar --version               sticky's version
            Exit codes: 0 done, 1 refused or failed, 2 usage, 3 no running master.
            """;

    private Cli() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        List<String> words = new ArrayList<>(List.of(args));
        boolean json = words.remove("--json");
        boolean wait = words.remove("--wait");
        if (words.equals(List.of("--version")) && !json) {
            System.out.println("sticky " + Version.current());
            return OK;
        }
        if (words.isEmpty() || words.get(0).equals("help") || words.get(0).equals("--help")) {
            System.out.print(HELP);
            return words.isEmpty() || !json ? OK : USAGE;
        }
        String command = words.remove(0);
        String count = command.equals("scale") && !words.isEmpty() ? words.remove(0) : null;
        if (!List.of("status", "reload", "stop", "upgrade", "scale").contains(command) || words.size() > 1
                || (json && !command.equals("status")) || (wait && !command.equals("reload"))
                || (command.equals("scale") && (count == null || !count.matches("[+-]?[0-9]{1,3}")))
                || (words.size() == 1 && !words.get(0).matches("[0-9]{1,10}"))) {
            System.err.println("sticky: usage: java -jar sticky.jar status [--json] | reload [--wait] | stop | upgrade"
                    + " | scale N|+N|-N [PID]");
            return USAGE;
        }
        try {
            Optional<Path> master = find(words.isEmpty() ? null : Long.valueOf(words.get(0)));
            if (master.isEmpty()) {
                return NO_MASTER;
            }
            long pid = Long.parseLong(master.get().getFileName().toString());
            String[] answer = ask(master.get().resolve(ControlPaths.ADMIN),
                    command + (json ? " --json" : "") + (wait ? " --wait" : "") + (count != null ? " " + count : ""));
            int code = Integer.parseInt(answer[0].trim());
            System.out.print(answer[1]);
            if (command.equals("stop") && code == OK) {
                return awaitExit(pid) ? report(OK, "stopped") : FAILED;
            }
            if (command.equals("upgrade") && code == OK) {
                return awaitExit(pid) ? upgraded(answer[1]) : FAILED;
            }
            return code;
        } catch (IOException e) {
            System.err.println("sticky: " + e.getMessage());
            return FAILED;
        }
    }

    private static Optional<Path> find(Long pid) throws IOException {
        List<Path> running = ControlPaths.running(ControlPaths.currentUid());
        if (pid != null) {
            Optional<Path> match = running.stream().filter(d -> d.getFileName().toString().equals(pid.toString())).findFirst();
            if (match.isEmpty()) {
                System.err.println("sticky: " + pid + " is not a running sticky master of yours");
            }
            return match;
        }
        if (running.isEmpty()) {
            System.err.println("sticky: no sticky master of yours is running");
            return Optional.empty();
        }
        if (running.size() > 1) {
            System.err.println("sticky: several masters are running, name one: "
                    + running.stream().map(d -> d.getFileName().toString()).collect(Collectors.joining(" ")));
            return Optional.empty();
        }
        return Optional.of(running.get(0));
    }

    /** One request, one answer: {exit code, text}. */
    private static String[] ask(Path socket, String request) throws IOException {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.write(ByteBuffer.wrap((request + "\n").getBytes(StandardCharsets.UTF_8)));
            String reply = new String(readAll(channel), StandardCharsets.UTF_8);
            int newline = reply.indexOf('\n');
            if (newline < 0) {
                throw new IOException("no answer from the master");
            }
            return new String[] {reply.substring(0, newline), reply.substring(newline + 1)};
        }
    }

    private static byte[] readAll(SocketChannel channel) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(8192);
        while (channel.read(buffer) >= 0) {
            bytes.write(buffer.array(), 0, buffer.position());
            buffer.clear();
        }
        return bytes.toByteArray();
    }

    private static boolean awaitExit(long pid) {
        Optional<ProcessHandle> master = ProcessHandle.of(pid);
        try {
            if (master.isPresent()) {
                master.get().onExit().get(STOP_WAIT_MINUTES, TimeUnit.MINUTES);
            }
            return true;
        } catch (Exception e) {
            System.err.println("sticky: master " + pid + " did not stop: " + e);
            return false;
        }
    }

    private static int report(int code, String line) {
        System.out.println(line);
        return code;
    }

    /**
     * The old master is gone: the outcome as seen now, whether the new master
     * (named in the answer: "upgraded: master N took over ...") still runs
     * and answers its operator.
     */
    private static int upgraded(String answer) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^upgraded: master (\\d+) ").matcher(answer);
        if (!m.find()) {
            return report(FAILED, "sticky: no new master named in the answer");
        }
        long next = Long.parseLong(m.group(1));
        try {
            Optional<Path> master = ControlPaths.running(ControlPaths.currentUid()).stream()
                    .filter(d -> d.getFileName().toString().equals(Long.toString(next))).findFirst();
            if (master.isPresent() && ProcessHandle.of(next).map(ProcessHandle::isAlive).orElse(false)
                    && ask(master.get().resolve(ControlPaths.ADMIN), "status")[0].trim().equals("0")) {
                return report(OK, "upgraded: the old master is gone; master " + next + " serves");
            }
        } catch (IOException e) {
            return report(FAILED, "sticky: upgrade: the new master (pid " + next + ") does not answer: " + e.getMessage());
        }
        return report(FAILED, "sticky: upgrade: the old master is gone, and so is the new one (pid " + next + ")");
    }
}
