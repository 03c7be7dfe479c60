package io.qedfs.fuse;

import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What signals do to a serving process. SIGTERM, SIGINT and SIGHUP unmount (the caller's {@code onStop}, on a
 * thread of its own), so the images are closed as after {@code qedfs unmount}. The other signals whose default
 * action would end the process on the spot, losing what the write-behind queue holds and leaving the images
 * dirty (SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGIO), are ignored and logged: nobody unmounts a disk
 * with them, and some tools send them for other reasons (SIGUSR1 to reopen logs).
 *
 * <p>SIGUSR2 is HotSpot's own thread-suspend signal unless the JVM was started with {@code _JAVA_SR_SIGNUM}
 * naming another one (a stray SIGUSR2 then crashes the JVM); the launcher and the background process set it
 * ({@link #SUSPEND_SIGNAL}), and only then is SIGUSR2 taken over here.
 */
public final class ServerSignals {
    private static final Logger LOG = LoggerFactory.getLogger(ServerSignals.class);

    /** The environment variable that moves HotSpot's thread-suspend signal, and where qedfs moves it (SIGRTMIN+6). */
    public static final String SUSPEND_SIGNAL_VARIABLE = "_JAVA_SR_SIGNUM";
    public static final String SUSPEND_SIGNAL = "40";

    private static final String[] STOP = {"TERM", "INT", "HUP"};
    private static final String[] STRAY = {"USR1", "USR2", "ALRM", "VTALRM", "PROF", "IO"};

    /** The stray signals already logged at info level (later ones are logged at debug level: no log flood). */
    private static final Set<String> REPORTED = ConcurrentHashMap.newKeySet();

    private ServerSignals() {
    }

    /** Installs the handlers; {@code mountPoint} only names the mount in the log. */
    static void install(Runnable onStop, Path mountPoint) {
        for (String name : STOP) {
            handle(name, () -> {
                Thread t = new Thread(onStop, "qedfs-signal-" + name);
                t.setDaemon(true);
                t.start();
            });
        }
        for (String name : STRAY) {
            if (name.equals("USR2") && !suspendSignalMoved()) {
                LOG.debug("SIGUSR2 is the JVM's own ({} is not set): left to it", SUSPEND_SIGNAL_VARIABLE);
                continue;
            }
            handle(name, () -> {
                if (REPORTED.add(name)) {
                    LOG.info("SIG{} ignored: unmount {} with qedfs unmount (or SIGTERM)", name, mountPoint);
                } else {
                    LOG.debug("SIG{} ignored", name);
                }
            });
        }
    }

    private static void handle(String name, Runnable action) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> action.run());
        } catch (IllegalArgumentException e) {
            LOG.debug("cannot handle SIG{}: {}", name, e.getMessage()); // e.g. ignored by the parent shell
        }
    }

    /** Whether HotSpot suspends threads with a signal other than SIGUSR2 in this process. */
    static boolean suspendSignalMoved() {
        String v = System.getenv(SUSPEND_SIGNAL_VARIABLE);
        try {
            int sig = v == null ? 12 : Integer.parseInt(v.strip());
            return sig > 11 && sig < 65 && sig != 12; // HotSpot takes values above SIGSEGV and SIGBUS only
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
