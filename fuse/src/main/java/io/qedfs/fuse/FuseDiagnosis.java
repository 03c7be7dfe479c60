package io.qedfs.fuse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Why libfuse could not mount, in words a user can act on. Consulted only after the mount failed, so a
 * guess that is wrong here never stops a mount that would have worked.
 */
final class FuseDiagnosis {
    private static final Path DEVICE = Path.of("/dev/fuse");
    private static final Path CONF = Path.of("/etc/fuse.conf");

    private FuseDiagnosis() {
    }

    /** The likely cause of a failed mount with these {@code -o} options, with what to do about it. */
    static String explain(List<String> fuseOptions) {
        if (!Files.exists(DEVICE)) {
            return "/dev/fuse does not exist: load the module (modprobe fuse); in a container, start it with"
                    + " --device /dev/fuse --cap-add SYS_ADMIN";
        }
        if (!Files.isReadable(DEVICE) || !Files.isWritable(DEVICE)) {
            return "/dev/fuse: permission denied for this user (see ls -l /dev/fuse; mount as root or get access)";
        }
        if (FileDescriptors.nearLimit()) {
            return FileDescriptors.tooManyOpen();
        }
        boolean root = isRoot();
        if (!root && !onPath("fusermount") && !onPath("fusermount3")) {
            return "fusermount is not installed; mounting without root needs it (apt-get install fuse3)";
        }
        if (!root && wantsAllowOther(fuseOptions) && !userAllowOther()) {
            return "-o allow_other (or allow_root) needs a line 'user_allow_other' in /etc/fuse.conf when not root";
        }
        return "libfuse refused it (its reason is in brackets, or above, or in the --log file)";
    }

    private static boolean isRoot() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).intValue() == 0;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    private static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        for (String dir : (path == null ? "/usr/bin:/bin" : path).split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    private static boolean wantsAllowOther(List<String> fuseOptions) {
        for (String group : fuseOptions) {
            for (String o : group.split(",")) {
                if (o.strip().equals("allow_other") || o.strip().equals("allow_root")) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean userAllowOther() {
        try {
            return Files.readAllLines(CONF).stream().map(String::strip).anyMatch(l -> l.equals("user_allow_other"));
        } catch (IOException e) {
            return false;
        }
    }
}
