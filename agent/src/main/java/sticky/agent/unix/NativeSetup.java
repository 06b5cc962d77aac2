package sticky.agent.unix;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.slf4j.Logger;
import sticky.agent.jvm.Logs;
import sticky.agent.jvm.TemporaryProperty;

/**
 * Loads JNA and the bindings to libc ({@link Libc}) with less of JNA's own
 * start-up (measured: 30 to 40 ms of CPU a JVM less, JNA 5.14, JDK 17): its
 * dispatch library from a copy kept in a directory of the user's
 * (extracted from sticky.jar once, instead of to a new temporary file at each
 * JVM's start: jna.boot.library.path), and without its search of the
 * system's library paths, which NativeLibrary's static initialiser makes by
 * running /sbin/ldconfig -p in a child process (skipped when
 * jna.platform.library.path is set; libc is found by the dynamic linker by
 * its name anyway). Both properties are set for the load alone: an
 * application's own JNA, which has not started yet, never sees them. Where
 * this cannot be done, JNA loads as it does by itself.
 */
public final class NativeSetup {
    private static final Logger log = Logs.get();
    private static final String SYSTEM_PATHS = "/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/lib/aarch64-linux-gnu:"
            + "/usr/lib/aarch64-linux-gnu:/lib64:/usr/lib64:/lib:/usr/lib";

    private NativeSetup() {}

    /** Before any other native call: dir is a directory only this user can write to (the per-user directory). */
    public static void load(Path dir) {
        try {
            Path home = dir.resolve("jna-" + com.sun.jna.Native.VERSION_NATIVE + "-" + com.sun.jna.Platform.RESOURCE_PREFIX);
            String name = System.mapLibraryName("jnidispatch");
            if (!Files.isRegularFile(home.resolve(name))) {
                extract(home, name);
            }
            TemporaryProperty.with("jna.boot.library.path", home.toString(), () ->
                    TemporaryProperty.with("jna.platform.library.path", SYSTEM_PATHS, () ->
                            Class.forName(Libc.class.getName(), true, NativeSetup.class.getClassLoader())));
        } catch (Exception | LinkageError e) {
            log.debug("JNA loads as it does by itself: {}", e.toString());
        }
    }

    /** JNA's dispatch library for this platform, from sticky.jar into home: written aside, then renamed into place. */
    private static void extract(Path home, String name) throws IOException {
        String resource = "com/sun/jna/" + com.sun.jna.Platform.RESOURCE_PREFIX + "/" + name;
        try (InputStream in = NativeSetup.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("no " + resource + " in sticky.jar");
            }
            Files.createDirectories(home);
            Path part = Files.createTempFile(home, name, ".part");
            try {
                Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING);
                Files.move(part, home.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(part);
            }
        }
    }
}
