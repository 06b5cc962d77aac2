package sticky.agent.worker;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import org.slf4j.Logger;
import sticky.agent.jvm.Logs;

/**
 * The bytes sticky's rewrite gives the JDK's server classes, and the hook
 * class, kept in the per-user directory by the first worker that made them,
 * so that the next worker defines them from there without loading ASM or
 * Byte Buddy (tens of milliseconds of a worker's start). They depend only on
 * the JDK build and on sticky's build, which the file's name and its first
 * field hold (java.vm.version, java.home and its lib/modules image's size and
 * time; the agent jar's size and time, and a digest of the hook's template and
 * of the rewriting classes); the whole file holds a digest of itself. A file
 * of another JDK or build is never read, a damaged one is ignored, and either
 * is made again. (The bytes a retransformation is given are no key: HotSpot
 * rebuilds them with the methods in an order of its own, which differs from
 * one JVM to the next.) A JVM with another agent that may change classes
 * neither reads nor writes it (see Worker).
 */
final class RewriteCache {
    private static final Logger log = Logs.get();
    private static final int FORMAT = 1;
    /** The classes whose code makes the bytes: a change to any of them is another build. */
    private static final String[] REWRITERS = {"sticky/agent/worker/HookInstaller", "sticky/agent/worker/HookClass",
        "sticky/agent/worker/CachedHooks", "sticky/agent/worker/RewriteCache"};

    /** What the file holds: the hook class's bytes, and each JDK class's rewritten bytes by internal name. */
    record Entry(byte[] hook, Map<String, byte[]> classes) {}

    private final Path file;
    private final String key;

    private RewriteCache(Path file, String key) {
        this.file = file;
        this.key = key;
    }

    /** The cache for this JVM and this agent jar, in dir (made if need be). */
    static RewriteCache in(Path dir, File jar) throws IOException {
        File image = Path.of(System.getProperty("java.home"), "lib", "modules").toFile();
        String key = "sticky-rewrites " + FORMAT + "\n" + System.getProperty("java.vm.version") + "\n"
                + System.getProperty("java.home") + " " + image.length() + " " + image.lastModified() + "\n"
                + jar.length() + " " + jar.lastModified() + "\n" + HexFormat.of().formatHex(rewritersDigest(jar));
        Files.createDirectories(dir);
        String name = "rewrites-" + HexFormat.of().formatHex(Arrays.copyOf(sha256(key.getBytes(StandardCharsets.UTF_8)), 12));
        return new RewriteCache(dir.resolve(name + ".bin"), key);
    }

    Path file() {
        return file;
    }

    /** The cached entry, or null: none yet, another build's (never, by its name), or damaged. */
    Entry read() {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            log.debug("rewrite cache {}: {}", file, e.toString());
            return null;
        }
        if (all.length < 32 || !Arrays.equals(sha256(Arrays.copyOf(all, all.length - 32)),
                Arrays.copyOfRange(all, all.length - 32, all.length))) {
            log.debug("rewrite cache {} is damaged; made again", file);
            return null;
        }
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(all, 0, all.length - 32))) {
            if (!in.readUTF().equals(key)) {
                log.debug("rewrite cache {} is another build's; made again", file);
                return null;
            }
            byte[] hook = in.readNBytes(in.readInt());
            int count = in.readInt();
            Map<String, byte[]> classes = new HashMap<>();
            for (int i = 0; i < count; i++) {
                String name = in.readUTF();
                classes.put(name, in.readNBytes(in.readInt()));
            }
            return new Entry(hook, classes);
        } catch (IOException e) {
            log.debug("rewrite cache {}: {}; made again", file, e.toString());
            return null;
        }
    }

    /** Keeps entry, whole or not at all (written aside, then renamed into place); a failure only costs the next worker. */
    void write(Entry entry) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                out.writeUTF(key);
                out.writeInt(entry.hook().length);
                out.write(entry.hook());
                out.writeInt(entry.classes().size());
                for (Map.Entry<String, byte[]> e : entry.classes().entrySet()) {
                    out.writeUTF(e.getKey());
                    out.writeInt(e.getValue().length);
                    out.write(e.getValue());
                }
            }
            bytes.write(sha256(bytes.toByteArray()));
            Path part = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".part");
            try {
                Files.write(part, bytes.toByteArray());
                Files.move(part, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(part);
            }
        } catch (IOException e) {
            log.debug("could not keep the rewrite cache {}: {}", file, e.toString());
        }
    }

    static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JDK has SHA-256
        }
    }

    /** A digest of the hook's template (in the jar) and of the classes that rewrite (in the agent's loader). */
    private static byte[] rewritersDigest(File jar) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (JarFile file = new JarFile(jar, false)) {
            ZipEntry template = file.getEntry(HookClass.TEMPLATE.replace('.', '/') + ".class");
            if (template == null) {
                throw new IOException(jar + " has no " + HookClass.TEMPLATE);
            }
            try (InputStream in = file.getInputStream(template)) {
                digest.update(in.readAllBytes());
            }
        }
        ClassLoader loader = RewriteCache.class.getClassLoader();
        for (String name : REWRITERS) {
            // AgentClassLoader keeps them as .classdata (see sticky.bootstrap.AgentClassLoader); a plain class path as .class
            InputStream found = loader.getResourceAsStream(name + ".classdata");
            try (InputStream in = found != null ? found : loader.getResourceAsStream(name + ".class")) {
                if (in == null) {
                    throw new IOException("no class file for " + name);
                }
                digest.update(in.readAllBytes());
            }
        }
        return digest.digest();
    }
}
