package io.qedfs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.lang.reflect.Proxy;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.ErrorCodes;

/** Failures become errno values, whatever they are and even when nothing can be logged any more. */
class ErrnoTest {
    private static final Logger LOG = LoggerFactory.getLogger(ErrnoTest.class);

    @Test
    void anExhaustedHeapIsEnomemAndOtherErrorsEio() {
        assertEquals(-ErrorCodes.ENOMEM(), Errno.of(new OutOfMemoryError("Java heap space"), "write", "/d.raw", LOG));
        assertEquals(-ErrorCodes.EIO(), Errno.of(new StackOverflowError(), "write", "/d.raw", LOG));
        assertEquals(-ErrorCodes.ENOSPC(), Errno.of(new IOException("No space left on device"), "write", "/d.raw", LOG));
    }

    @Test
    void aLoggerThatFailsDoesNotTurnTheErrnoIntoAnException() {
        Logger failing = (Logger) Proxy.newProxyInstance(Logger.class.getClassLoader(), new Class<?>[] {Logger.class},
                (proxy, method, args) -> {
                    throw new OutOfMemoryError("injected: no memory to log with");
                });
        assertEquals(-ErrorCodes.ENOMEM(), Errno.of(new OutOfMemoryError("Java heap space"), "read", "/d.raw", failing));
        assertEquals(-ErrorCodes.EIO(), Errno.of(new IOException("Input/output error"), "read", "/d.raw", failing));
    }
}
