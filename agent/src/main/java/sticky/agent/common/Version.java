package sticky.agent.common;

import java.io.IOException;
import java.nio.file.Path;
import java.util.jar.Attributes;
import java.util.jar.JarFile;

/**
 * sticky's version and its protocol's, as sticky.jar's manifest says:
 * Implementation-Version; Sticky-Protocol, the version of the messages
 * between a master and its workers and from one master to the next
 * ({@link Protocol}); and Sticky-Upgrades-From, the oldest protocol whose
 * master this jar's master takes the sockets from in an upgrade. The build
 * writes them (agent/pom.xml); a change of {@link Protocol}'s messages changes
 * Sticky-Protocol there. They are read from the jar the boot hook was loaded
 * from (the agent's own classes come through an isolated loader, which defines
 * no packages from the manifest).
 */
public final class Version {
    private Version() {}

    private static final class Manifest {
        static final Attributes MAIN = read();

        private static Attributes read() {
            try {
                Class<?> premain = Class.forName("sticky.bootstrap.Premain", false, ClassLoader.getSystemClassLoader());
                Path jar = Path.of(premain.getProtectionDomain().getCodeSource().getLocation().toURI());
                try (JarFile file = new JarFile(jar.toFile())) {
                    return file.getManifest() == null ? new Attributes() : file.getManifest().getMainAttributes();
                }
            } catch (ClassNotFoundException | IOException | java.net.URISyntaxException | RuntimeException e) {
                return new Attributes(); // not run from sticky.jar (unit tests)
            }
        }
    }

    /**
     * Reads the manifest now, while the jar on disk is the one this JVM runs:
     * a deploy may replace it later (the classes still come from the jar
     * opened at start).
     */
    public static void pin() {
        current();
    }

    public static String current() {
        String version = Manifest.MAIN.getValue("Implementation-Version");
        return version == null ? "unknown" : version;
    }

    /** This jar's protocol version; 0 when not run from sticky.jar. */
    public static int protocol() {
        return number("Sticky-Protocol");
    }

    /** The oldest protocol version whose master hands its sockets to this jar's. */
    public static int upgradesFrom() {
        return number("Sticky-Upgrades-From");
    }

    private static int number(String attribute) {
        try {
            return Integer.parseInt(String.valueOf(Manifest.MAIN.getValue(attribute)).trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
