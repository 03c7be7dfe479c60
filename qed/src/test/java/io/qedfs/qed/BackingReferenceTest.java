package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The backing reference changes in two steps; a crash between them leaves the old reference whole. */
class BackingReferenceTest {
    @TempDir
    Path dir;
    Path top;

    @BeforeEach
    void chain() throws IOException {
        QedTools.create(dir.resolve("base.qed"), QedCreateOptions.ofSize(1 << 20));
        QedTools.create(dir.resolve("a-much-longer-backing-name.qed"), QedCreateOptions.ofSize(1 << 20));
        top = dir.resolve("top.qed");
        QedTools.create(top, QedCreateOptions.ofSize(-1).withBacking("base.qed", null));
    }

    private String backingName() throws IOException {
        try (QedImage img = QedImage.open(top, QedOpenOptions.readOnlyOptions())) {
            return img.backingFileName();
        }
    }

    /** Writes the new name and, if {@code commit}, the header that points at it. */
    private QedHeader change(String name, boolean commit) throws IOException {
        try (FileChannel ch = FileChannel.open(top, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            QedHeader h = QedHeader.read(ch, top.toString(), ch.size());
            QedHeader next = BackingReference.placeName(ch, h, name, null, top.toString());
            if (commit) {
                BackingReference.writeHeader(ch, next);
            }
            return next;
        }
    }

    private static void assertApart(QedHeader a, QedHeader b) {
        assertTrue(a.backingNameOffset() + a.backingNameSize() <= b.backingNameOffset()
                || b.backingNameOffset() + b.backingNameSize() <= a.backingNameOffset(),
                "the new name does not overwrite the current one");
    }

    @Test
    void aCrashBeforeTheHeaderWriteKeepsTheOldName() throws IOException {
        QedHeader current = change("base.qed", true);
        QedHeader next = change("a-much-longer-backing-name.qed", false);
        assertApart(current, next);
        assertEquals("base.qed", backingName());
        current = change("a-much-longer-backing-name.qed", true);
        assertEquals("a-much-longer-backing-name.qed", backingName());
        assertApart(current, change("base.qed", false)); // fits in front of the current name
        assertEquals("a-much-longer-backing-name.qed", backingName());
        change("base.qed", true);
        assertEquals("base.qed", backingName());
    }

    @Test
    void removingTheReferenceClearsTheFlags() throws IOException {
        QedHeader h = change("", true);
        assertEquals(0, h.features() & (QedHeader.F_BACKING_FILE | QedHeader.F_BACKING_FORMAT_NO_PROBE));
        assertNull(backingName());
        change("base.qed", true);
        assertEquals("base.qed", backingName());
    }
}
