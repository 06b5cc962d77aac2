package sticky.it;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs a test once per value of the agent's dispatch= option, given to it as
 * its String parameter: kernel and master, or only the one the system
 * property sticky.test.dispatch names (the emulated aarch64 run, where the
 * kernel's program cannot be attached, runs master alone).
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@ParameterizedTest(name = "dispatch={0}")
@MethodSource("sticky.it.EachDispatch$Values#dispatches")
@interface EachDispatch {
    final class Values {
        private Values() {}

        static List<String> dispatches() {
            String only = System.getProperty("sticky.test.dispatch");
            return only == null || only.isEmpty() ? List.of("kernel", "master") : List.of(only);
        }
    }
}
