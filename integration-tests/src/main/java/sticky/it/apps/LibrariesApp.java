package sticky.it.apps;

import com.sun.jna.Library;
import com.sun.jna.Native;
import net.bytebuddy.ByteBuddy;

/**
 * An application that ships its own JNA and Byte Buddy (other versions than
 * sticky's) and uses both, then serves like ChannelApp. Args: port.
 */
public final class LibrariesApp {
    public interface C extends Library {
        int getpid();
    }

    public static void main(String[] args) throws Exception {
        C c = Native.load("c", C.class);
        Class<?> made = new ByteBuddy().subclass(Object.class).name("sticky.it.apps.Made").make()
                .load(LibrariesApp.class.getClassLoader()).getLoaded();
        System.out.println("libraries jna=" + Native.VERSION + " getpid=" + (c.getpid() == ProcessHandle.current().pid())
                + " bytebuddy=" + ByteBuddy.class.getProtectionDomain().getCodeSource().getLocation().getPath()
                + " made=" + made.getName());
        ChannelApp.main(args);
    }
}
