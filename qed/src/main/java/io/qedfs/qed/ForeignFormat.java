package io.qedfs.qed;

import io.qedfs.qed.host.FileIo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;

/**
 * What a file that is not a QED image is instead: the other formats qemu-img knows, by the magic at their start
 * (or, for a fixed VHD, their end), named as qemu-img names them, so that a user who gave a qcow2 file learns that
 * it is one. A file with none of these magics is what qemu-img calls raw.
 */
final class ForeignFormat {
    private static final int HEAD = 512;

    private ForeignFormat() {
    }

    /** The one-line refusal for {@code name}, open on {@code ch}, which lacks the QED magic. */
    static String notQed(String name, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size == 0) {
            return name + ": not a QED image: the file is empty";
        }
        String format = of(ch, size);
        if (format == null) {
            return name + ": not a QED image: it has no disk image format's header, so it is raw data (a raw disk image?)";
        }
        return name + ": not a QED image but a " + format + " image (qemu-img convert -O qed makes a QED copy of it)";
    }

    /** qemu-img's name of the format of the file on {@code ch} ({@code size} bytes), or null for raw data. */
    static String of(FileChannel ch, long size) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(HEAD);
        FileIo.readOrZero(ch, 0, b);
        byte[] head = b.array();
        if (starts(head, 0, "QFI\u00fb")) {
            return head[7] == 1 ? "qcow" : "qcow2";
        }
        if (starts(head, 0, "KDMV") || starts(head, 0, "# Disk DescriptorFile")) {
            return "vmdk";
        }
        if (starts(head, 0, "vhdxfile")) {
            return "vhdx";
        }
        if (starts(head, 0, "conectix")) {
            return "vpc (VHD)";
        }
        if (b.order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(0x40) == 0xbeda107f) {
            return "vdi";
        }
        if (starts(head, 0, "LUKS\u00ba\u00be")) {
            return "luks";
        }
        if (starts(head, 0, "WithoutFreeSpace") || starts(head, 0, "WithouFreSpacExt")) {
            return "parallels";
        }
        if (size >= HEAD) {
            ByteBuffer footer = ByteBuffer.allocate(HEAD);
            FileIo.readOrZero(ch, size - HEAD, footer);
            if (starts(footer.array(), 0, "conectix")) {
                return "vpc (VHD)";
            }
        }
        return null;
    }

    private static boolean starts(byte[] data, int offset, String magic) {
        byte[] m = magic.getBytes(StandardCharsets.ISO_8859_1);
        if (data.length < offset + m.length) {
            return false;
        }
        for (int i = 0; i < m.length; i++) {
            if (data[offset + i] != m[i]) {
                return false;
            }
        }
        return true;
    }
}
