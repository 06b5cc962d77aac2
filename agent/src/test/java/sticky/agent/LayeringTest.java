package sticky.agent;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.Test;
import sticky.agent.master.lifecycle.LayeringViolation;

/**
 * The agent's layering: the roles (master, worker) never use each other;
 * what both share (common) and the routing rules (route) are pure logic with
 * no native code; the master's lifecycle is rules over a table, with no
 * native code and no channels; no package depends on itself through others;
 * nothing looks a name up.
 * A class that breaks a rule fails the build, and the failure names the rule.
 */
@AnalyzeClasses(packages = "sticky.agent", importOptions = ImportOption.DoNotIncludeTests.class)
class LayeringTest {
    private static final String[] NATIVE = {"com.sun.jna..", "sticky.agent.unix.."};

    @ArchTest
    static final ArchRule theMasterNeverUsesTheWorker = noClasses().that().resideInAPackage("sticky.agent.master..")
            .should().dependOnClassesThat().resideInAPackage("sticky.agent.worker..")
            .because("master and worker are two roles, which share only common");

    @ArchTest
    static final ArchRule theWorkerNeverUsesTheMaster = noClasses().that().resideInAPackage("sticky.agent.worker..")
            .should().dependOnClassesThat().resideInAPackage("sticky.agent.master..")
            .because("master and worker are two roles, which share only common");

    @ArchTest
    static final ArchRule commonIsPureSharedLogic = noClasses().that().resideInAPackage("sticky.agent.common..")
            .should().dependOnClassesThat().resideInAnyPackage(concat(NATIVE, "sticky.agent.master..",
                    "sticky.agent.worker..", "sticky.agent.route.."))
            .because("what master and worker share is pure logic, with no native code");

    @ArchTest
    static final ArchRule routingRulesArePureLogic = noClasses().that().resideInAPackage("sticky.agent.route..")
            .should().dependOnClassesThat().resideInAnyPackage(concat(NATIVE, "sticky.agent.master..",
                    "sticky.agent.worker.."))
            .because("the routing rules and parsers are pure logic, unit-tested and fuzzed without sockets");

    @ArchTest
    static final ArchRule theLifecycleIsRulesOverATable = noClasses()
            .that().resideInAPackage("sticky.agent.master.lifecycle..")
            .should().dependOnClassesThat().resideInAnyPackage(concat(NATIVE, "java.nio.channels..", "java.net.."))
            .because("the lifecycle's rules are driven event by event in unit tests, with fakes for processes,"
                    + " timers and listeners: no native code, no channels");

    @ArchTest
    static final ArchRule theAgentsPackagesHaveNoCycles = slices().matching("sticky.agent.(*)..").should()
            .beFreeOfCycles().because("each layer may use the ones below it only");

    @ArchTest
    static final ArchRule theMastersPartsHaveNoCycles = slices().matching("sticky.agent.master.(*)..").should()
            .beFreeOfCycles().because("each of the master's parts may use the ones below it only");

    /** InetAddress.getByName looks up what it does not take for a literal: untrusted text must never reach it. */
    @ArchTest
    static final ArchRule noAddressIsLookedUp = noClasses().should().callMethod(java.net.InetAddress.class, "getByName",
            String.class).orShould().callMethod(java.net.InetAddress.class, "getAllByName", String.class)
            .because("addresses from headers and options are literals, parsed by sticky.agent.route.Addresses: a name "
                    + "lookup from the accept thread would consult nscd, /etc/hosts and DNS for a client's header");

    @Test
    void aClassThatBreaksARuleFailsItWithTheRuleNamed() {
        JavaClasses violation = new ClassFileImporter().importClasses(LayeringViolation.class);
        AssertionError failure = assertThrows(AssertionError.class, () -> theLifecycleIsRulesOverATable.check(violation));
        assertTrue(failure.getMessage().contains("the lifecycle's rules are driven event by event"), failure.getMessage());
        assertTrue(failure.getMessage().contains("java.nio.channels.SocketChannel"), failure.getMessage());
    }

    private static String[] concat(String[] first, String... more) {
        String[] all = java.util.Arrays.copyOf(first, first.length + more.length);
        System.arraycopy(more, 0, all, first.length, more.length);
        return all;
    }
}
