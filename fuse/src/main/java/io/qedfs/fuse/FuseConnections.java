package io.qedfs.fuse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The kernel's FUSE control file system (/sys/fs/fuse/connections): aborting a connection that will not end. */
final class FuseConnections {
    private static final Logger LOG = LoggerFactory.getLogger(FuseConnections.class);
    private static final Path ROOT = Path.of("/sys/fs/fuse/connections");

    private FuseConnections() {
    }

    /** Aborts the connection of {@code mount}; mounts fusectl first where it is not mounted (root only). */
    static void abort(MountTable.Entry mount) {
        Path abort = ROOT.resolve(mount.connection()).resolve("abort");
        try {
            if (!Files.exists(abort)) {
                Process p = new ProcessBuilder("mount", "-t", "fusectl", "fusectl", ROOT.toString())
                        .redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                p.waitFor(10, TimeUnit.SECONDS);
            }
            Files.writeString(abort, "1");
        } catch (IOException e) {
            LOG.error("could not abort FUSE connection {} of {}: {}", mount.connection(), mount.mountPoint(), e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
