package sticky.it.apps;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Serves like ChannelApp, unless the file named by its second argument exists
 * when it starts: then it fails at once with exit code 3, like a broken
 * deploy. Args: port markerFile.
 */
public final class BreakableApp {
    public static void main(String[] args) throws Exception {
        if (Files.exists(Path.of(args[1]))) {
            System.out.println("broken: " + Files.readString(Path.of(args[1])));
            System.exit(3);
        }
        ChannelApp.main(args);
    }
}
