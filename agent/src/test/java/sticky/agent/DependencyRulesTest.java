package sticky.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The agent's layering, checked on its sources: the roles (master, worker)
 * never import each other; what both share (common) and the routing rules
 * (route) are pure logic with no native code. A reference is an import or a
 * fully qualified name outside comments.
 */
class DependencyRulesTest {
    private static final Path SOURCES = Path.of("src/main/java/sticky/agent");
    private static final Pattern REFERENCE = Pattern.compile("\\b(sticky\\.agent\\.\\w+|com\\.sun\\.jna)\\b");
    private static final Pattern COMMENT = Pattern.compile("(?s)/\\*.*?\\*/|//[^\\n]*");

    /** Package prefix of the referring class, and the references it must not make. */
    private static final List<Rule> RULES = List.of(
            new Rule("sticky.agent.master", Set.of("sticky.agent.worker")),
            new Rule("sticky.agent.worker", Set.of("sticky.agent.master")),
            new Rule("sticky.agent.common", Set.of("sticky.agent.master", "sticky.agent.worker", "sticky.agent.unix",
                    "sticky.agent.route", "com.sun.jna")),
            new Rule("sticky.agent.route", Set.of("sticky.agent.master", "sticky.agent.worker", "sticky.agent.unix",
                    "com.sun.jna")));

    private record Rule(String from, Set<String> forbidden) {}

    @Test
    void rolesAndSharedLogicKeepTheirLayers() throws IOException {
        List<String> broken = new ArrayList<>();
        int checked = 0;
        for (Path file : sources()) {
            String text = Files.readString(file);
            String pkg = text.lines().filter(l -> l.startsWith("package ")).findFirst().orElseThrow()
                    .replace("package ", "").replace(";", "").strip();
            String code = COMMENT.matcher(text).replaceAll("");
            for (Rule rule : RULES) {
                if (!pkg.equals(rule.from()) && !pkg.startsWith(rule.from() + ".")) {
                    continue;
                }
                checked++;
                Matcher m = REFERENCE.matcher(code);
                while (m.find()) {
                    if (rule.forbidden().contains(m.group(1))) {
                        broken.add(SOURCES.relativize(file) + " refers to " + m.group(1));
                    }
                }
            }
        }
        assertTrue(checked > 30, "the rules must have sources to check, found " + checked);
        assertEquals(List.of(), broken);
    }

    @Test
    void theCheckSeesAForbiddenReference() {
        String code = COMMENT.matcher("// sticky.agent.unix in a comment\nimport sticky.agent.unix.Libc;\n").replaceAll("");
        Matcher m = REFERENCE.matcher(code);
        assertTrue(m.find());
        assertEquals("sticky.agent.unix", m.group(1));
    }

    private static List<Path> sources() throws IOException {
        try (Stream<Path> files = Files.walk(SOURCES)) {
            return files.filter(f -> f.toString().endsWith(".java")).sorted().collect(Collectors.toList());
        }
    }
}
