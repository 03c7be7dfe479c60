package io.qedfs.fuse;

import com.kenai.jffi.Function;
import com.kenai.jffi.Invoker;
import com.kenai.jffi.Library;
import io.qedfs.qed.host.LibC;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Marks this process's open descriptors close-on-exec before libfuse2 forks {@code fusermount}. The JDK opens
 * files without O_CLOEXEC (its own process launcher closes them in the child), but libfuse's C fork does not:
 * fusermount, which stays for the whole mount with {@code auto_unmount}, would hold a duplicate of each image
 * file's description, and with it the OFD locks on that description, after the server has closed the image.
 * Standard input, output and error stay inherited; libfuse makes the descriptors it hands fusermount itself,
 * after this has run.
 */
final class CloseOnExec {
    private static final Logger LOG = LoggerFactory.getLogger(CloseOnExec.class);
    private static final int F_GETFD = 1;
    private static final int F_SETFD = 2;
    private static final int FD_CLOEXEC = 1;
    private static final Function FCNTL = bind();

    private CloseOnExec() {
    }

    private static Function bind() {
        try {
            return LibC.bind(Library.getDefault(), "libc", "fcntl", 3, false);
        } catch (Throwable t) { // no native support: nothing to mark, and nothing forks natively either
            return null;
        }
    }

    /** Marks every open descriptor above standard error close-on-exec, as /proc/self/fd lists them. */
    static void markAllButStdio() {
        if (FCNTL == null) {
            return;
        }
        Invoker invoker = Invoker.getInstance();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path entry : fds) {
                int fd = Integer.parseInt(entry.getFileName().toString());
                if (fd <= 2) {
                    continue;
                }
                int flags = (int) invoker.invokeLLLrL(FCNTL, fd, F_GETFD, 0);
                if (flags >= 0 && (flags & FD_CLOEXEC) == 0) {
                    invoker.invokeLLLrL(FCNTL, fd, F_SETFD, flags | FD_CLOEXEC);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot mark open files close-on-exec; fusermount may hold them open: {}", e.toString());
        }
    }
}
