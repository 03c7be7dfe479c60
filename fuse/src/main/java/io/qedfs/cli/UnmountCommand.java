package io.qedfs.cli;

import io.qedfs.fuse.Unmounter;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code qedfs unmount}: returns once every image is flushed, marked clean and closed. */
@Command(name = "unmount", aliases = "umount", sortOptions = false,
        description = {"Unmount, and wait until the images are flushed, marked clean and closed.",
            "Exits 1 with the serving process's error when anything acknowledged was not stored, or when the process"
                + " ended (killed) before it had closed its images.",
            "A busy mount (an open file, an attached loop device) is reported, naming who uses it, and left mounted:"
                + " close the file or umount the loop device first. A stale mount left by a killed process is removed."},
        footerHeading = "%nExamples:%n",
        footer = {"  qedfs unmount /mnt/q",
            "  umount /mnt/guest && qedfs unmount /mnt/q      # a loop-mounted guest first",
            "  qedfs unmount --timeout 600 /mnt/q             # a large write-back to flush"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:unmounted; every image flushed, marked clean and closed",
                "1:error (unmounted, but the images were not closed cleanly; or it could not unmount)",
                "2:the mount is busy and stays mounted (the message names the processes and loop devices using it)",
                "3:nothing is mounted at MOUNTPOINT",
                "64:bad usage (MOUNTPOINT is a file: an image, or a file of a mount)"})
final class UnmountCommand extends BaseCommand {
    /** Exit code of a busy mount: guestunmount's. */
    static final int EXIT_BUSY = 2;
    /** Exit code when nothing is mounted there: guestunmount's. */
    static final int EXIT_NOT_MOUNTED = 3;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "120",
            description = "How long to wait for the images to be closed (default 120).")
    long timeoutSeconds;

    @Parameters(index = "0", paramLabel = "MOUNTPOINT", description = "Where the images are mounted.")
    Path mountPoint;

    @Override
    String subject() {
        return mountPoint == null ? null : mountPoint.toString();
    }

    @Override
    int run() throws Exception {
        Logging.off(); // on the way of an unmount, Unmounter logs only at debug level, which nothing shows here
        try {
            Unmounter.unmount(mountPoint, timeoutSeconds);
            return 0;
        } catch (Unmounter.NotMountedException e) {
            err().println("qedfs: " + ErrorReporter.message(e, subject()));
            return EXIT_NOT_MOUNTED;
        } catch (Unmounter.NotAMountPointException e) { // an image or a file where the mountpoint belongs
            return UsageErrorHandler.report(err(), "qedfs unmount", e.getMessage());
        } catch (Unmounter.BusyException e) {
            err().println("qedfs: " + ErrorReporter.message(e, subject()));
            return EXIT_BUSY;
        }
    }
}
