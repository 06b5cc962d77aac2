package sticky.it.apps;

/** An application that cannot start: it fails at once with exit code 3. */
public final class FailingApp {
    public static void main(String[] args) {
        System.out.println("failing at start, pid " + ProcessHandle.current().pid());
        System.exit(3);
    }
}
