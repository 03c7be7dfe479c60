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

    /**
     * Aborts the connection of {@code mount}; mounts fusectl first where it is not mounted (root only). A
     * connection that has ended meanwhile needs nothing: its directory is gone from a mounted fusectl.
     */
    static void abort(MountTable.Entry mount) {
        Path connection = ROOT.resolve(mount.connection());
        try {
            if (!Files.isDirectory(connection) && !MountTable.isMountPoint(ROOT)) {
                Process p = new ProcessBuilder("mount", "-t", "fusectl", "fusectl", ROOT.toString())
                        .redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                p.waitFor(10, TimeUnit.SECONDS);
            }
            if (!Files.isDirectory(connection)) {
                LOG.info("FUSE connection {} of {} could not be aborted: {}", mount.connection(), mount.mountPoint(),
                        MountTable.isMountPoint(ROOT) ? "it has ended already" : ROOT + " is not mounted (mount -t fusectl needs root)");
                return;
            }
            Files.writeString(connection.resolve("abort"), "1");
        } catch (java.nio.file.NoSuchFileException e) {
            LOG.info("FUSE connection {} of {} has ended already", mount.connection(), mount.mountPoint());
        } catch (IOException e) {
            LOG.error("could not abort FUSE connection {} of {}: {}", mount.connection(), mount.mountPoint(),
                    e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
