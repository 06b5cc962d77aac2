package sticky.agent.common;

/**
 * sticky's version: the Implementation-Version of sticky.jar's manifest, as
 * the class loader that loaded the boot hook from the jar read it (the
 * agent's own classes come through an isolated loader, which defines no
 * packages from the manifest).
 */
public final class Version {
    private Version() {}

    public static String current() {
        try {
            Class<?> premain = Class.forName("sticky.bootstrap.Premain", false, ClassLoader.getSystemClassLoader());
            String version = premain.getPackage().getImplementationVersion();
            return version == null ? "unknown" : version;
        } catch (ClassNotFoundException e) {
            return "unknown";
        }
    }
}
