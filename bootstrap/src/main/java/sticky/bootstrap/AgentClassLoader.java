package sticky.bootstrap;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.lang.module.Configuration;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReader;
import java.lang.module.ModuleReference;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.security.CodeSource;
import java.security.ProtectionDomain;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * Loads the agent and its dependencies from the {@code inst/} entries of
 * sticky.jar, where classes are stored as {@code .classdata}. sticky.jar is on
 * the application's class path (every -javaagent jar is), so classes stored
 * there under their normal names would be visible to, and clash with, the
 * application's own Byte Buddy, JNA or slf4j. The same split as the
 * OpenTelemetry Java agent. Parent: the platform loader, so JDK modules such as
 * java.management stay visible.
 *
 * <p>The classes form one named module, {@code sticky}, in a layer of its own
 * ({@link #defineModule}). Being named is what lets the agent enable native
 * access for itself alone on JDK 22+ (an unnamed module can only get it for
 * all unnamed modules, the application's included), so JNA's System.load
 * prints no warning on JDK 24+.
 */
final class AgentClassLoader extends ClassLoader {
    private static final String PREFIX = "inst/";
    /** The module's packages and services as the build listed them; without it (an older jar), they are looked for. */
    private static final String MODULE = PREFIX + "META-INF/sticky/module";

    static {
        registerAsParallelCapable();
    }

    private final JarFile jar;
    private final String jarUrl;
    private final ProtectionDomain domain;

    AgentClassLoader(File jarFile) throws IOException {
        super("sticky", ClassLoader.getPlatformClassLoader());
        this.jar = new JarFile(jarFile, false);
        this.jarUrl = "jar:" + jarFile.toURI() + "!/";
        this.domain = new ProtectionDomain(new CodeSource(jarFile.toURI().toURL(), (Certificate[]) null), null, this, null);
    }

    /** Defines the module {@code sticky} to this loader: every package under inst/, reading every boot module. */
    Module defineModule() throws IOException {
        Set<String> packages = new HashSet<>();
        Map<String, List<String>> services = new HashMap<>();
        JarEntry listed = jar.getJarEntry(MODULE);
        if (listed != null) {
            // The build's list (agent/pom.xml): "package a/b" per class, "service NAME" per services file.
            try (InputStream in = jar.getInputStream(listed)) {
                for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                    if (line.startsWith("package ")) {
                        packages.add(line.substring("package ".length()).replace('/', '.'));
                    } else if (line.startsWith("service ")) {
                        String service = line.substring("service ".length());
                        services.put(service, providers(jar.getJarEntry(PREFIX + "META-INF/services/" + service)));
                    }
                }
            }
        } else {
            for (JarEntry entry : Collections.list(jar.entries())) {
                String name = entry.getName();
                if (name.startsWith(PREFIX) && name.endsWith(".classdata") && name.lastIndexOf('/') > PREFIX.length()) {
                    packages.add(name.substring(PREFIX.length(), name.lastIndexOf('/')).replace('/', '.'));
                } else if (name.startsWith(PREFIX + "META-INF/services/") && !entry.isDirectory()) {
                    services.put(name.substring(name.lastIndexOf('/') + 1), providers(entry));
                }
            }
        }
        ModuleDescriptor.Builder module = ModuleDescriptor.newOpenModule("sticky").packages(packages);
        for (Module m : ModuleLayer.boot().modules()) {
            if (!m.getName().equals("java.base")) {
                module.requires(m.getName()); // read what an unnamed module would read
            }
        }
        // A named module finds service providers through its descriptor, not META-INF/services.
        services.forEach((service, providers) -> module.uses(service).provides(service, providers));
        ModuleDescriptor descriptor = module.build();
        ModuleReference reference = new ModuleReference(descriptor, null) {
            @Override
            public ModuleReader open() {
                throw new UnsupportedOperationException("classes are read by AgentClassLoader");
            }
        };
        ModuleFinder finder = new ModuleFinder() {
            @Override
            public Optional<ModuleReference> find(String name) {
                return name.equals("sticky") ? Optional.of(reference) : Optional.empty();
            }

            @Override
            public Set<ModuleReference> findAll() {
                return Set.of(reference);
            }
        };
        ModuleLayer boot = ModuleLayer.boot();
        Configuration configuration = boot.configuration().resolve(finder, ModuleFinder.of(), Set.of("sticky"));
        return boot.defineModules(configuration, name -> this).findModule("sticky").orElseThrow();
    }

    private List<String> providers(JarEntry entry) throws IOException {
        List<String> providers = new ArrayList<>();
        try (InputStream in = jar.getInputStream(entry)) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\\R")) {
                String provider = line.replaceAll("#.*", "").strip();
                if (!provider.isEmpty()) {
                    providers.add(provider);
                }
            }
        }
        return providers;
    }

    @Override
    protected Class<?> findClass(String name) throws ClassNotFoundException {
        JarEntry entry = jar.getJarEntry(PREFIX + name.replace('.', '/') + ".classdata");
        if (entry == null) {
            throw new ClassNotFoundException(name);
        }
        byte[] bytes;
        try (InputStream in = jar.getInputStream(entry)) {
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new ClassNotFoundException(name, e);
        }
        definePackageOf(name);
        return defineClass(name, bytes, 0, bytes.length, domain);
    }

    private void definePackageOf(String className) {
        int dot = className.lastIndexOf('.');
        if (dot > 0) {
            String pkg = className.substring(0, dot);
            if (getDefinedPackage(pkg) == null) {
                try {
                    definePackage(pkg, null, null, null, null, null, null, null);
                } catch (IllegalArgumentException raced) {
                    // another thread defined it first
                }
            }
        }
    }

    @Override
    protected URL findResource(String name) {
        if (jar.getJarEntry(PREFIX + name) == null) {
            return null;
        }
        try {
            return new URL(jarUrl + PREFIX + name);
        } catch (MalformedURLException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Class.forName(Module, String), as ServiceLoader uses for the module's providers, ends here. */
    @Override
    protected Class<?> findClass(String moduleName, String name) {
        if (moduleName != null && !moduleName.equals("sticky")) {
            return null;
        }
        try {
            return loadClass(name);
        } catch (ClassNotFoundException e) {
            return null;
        }
    }

    /** Class.getResource and Module.getResourceAsStream of the module's own classes end here. */
    @Override
    protected URL findResource(String moduleName, String name) {
        return moduleName == null || moduleName.equals("sticky") ? findResource(name) : null;
    }

    @Override
    protected Enumeration<URL> findResources(String name) {
        URL url = findResource(name);
        return url == null ? Collections.emptyEnumeration() : Collections.enumeration(Collections.singleton(url));
    }
}
