package sticky.agent.master.spawn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class WorkerCommandTest {
    @Test
    void debuggerAndJmxPortsGetTheWorkerIdAdded() {
        List<String> command = List.of("/jdk/bin/java", "-agentlib:jdwp=transport=dt_socket,server=y,address=*:5005",
                "-Dcom.sun.management.jmxremote.port=9010", "-Dcom.sun.management.jmxremote.rmi.port=9020",
                "-Dcom.sun.management.jmxremote.ssl=false", "-jar", "app.jar", "-Dcom.sun.management.jmxremote.port=1");
        assertEquals(List.of("/jdk/bin/java", "-agentlib:jdwp=transport=dt_socket,server=y,address=*:5008",
                "-Dcom.sun.management.jmxremote.port=9013", "-Dcom.sun.management.jmxremote.rmi.port=9023",
                "-Dcom.sun.management.jmxremote.ssl=false", "-jar", "app.jar", "-Dcom.sun.management.jmxremote.port=1"),
                WorkerCommand.forWorker(command, 3, false));
    }

    /** 256 on, the most workers there can be: no other slot's ports, whatever the count grows to. */
    @Test
    void aReplacementGetsPortsBesideTheWorkerItReplaces() {
        List<String> command = List.of("java", "-Xrunjdwp:transport=dt_socket,address=5005,server=y", "Main");
        assertEquals(List.of("java", "-Xrunjdwp:transport=dt_socket,address=5263,server=y", "Main"),
                WorkerCommand.forWorker(command, 2, true));
    }

    @Test
    void theCommandLineIsReadWhateverItsLength() {
        String longClassPath = "a.jar:".repeat(2000) + "b.jar";
        byte[] cmdline = ("java\0-cp\0" + longClassPath + "\0Main\0with space\0\0").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(List.of("java", "-cp", longClassPath, "Main", "with space", ""), WorkerCommand.parse(cmdline));
    }

    @Test
    void portZeroAndProgramArgumentsAreLeftAlone() {
        List<String> command = List.of("java", "-cp", "-agentlib:jdwp=address=5005", "-agentlib:jdwp=address=localhost:0",
                "Main", "-agentlib:jdwp=address=5005");
        assertEquals(command, WorkerCommand.forWorker(command, 1, false));
    }

    @Test
    void optionsAreAddedWhereTheJvmOptionsEnd() {
        List<String> added = List.of("-XX:ActiveProcessorCount=1", "-XX:+UseG1GC");
        assertEquals(List.of("java", "-cp", "-x.jar", "-Xmx1g", "-XX:ActiveProcessorCount=1", "-XX:+UseG1GC", "Main", "-Xmx2g"),
                WorkerCommand.withJvmOptions(List.of("java", "-cp", "-x.jar", "-Xmx1g", "Main", "-Xmx2g"), added));
        assertEquals(List.of("java", "-XX:ActiveProcessorCount=1", "-XX:+UseG1GC", "-jar", "app.jar"),
                WorkerCommand.withJvmOptions(List.of("java", "-jar", "app.jar"), added));
        assertEquals(List.of("java", "-p", "mods", "-XX:ActiveProcessorCount=1", "-XX:+UseG1GC", "-m", "app/app.Main"),
                WorkerCommand.withJvmOptions(List.of("java", "-p", "mods", "-m", "app/app.Main"), added));
    }
}
