package io.qedfs.fuse;

import io.qedfs.qed.QedImage;
import java.nio.file.Path;

/** One image served under the mountpoint as {@code name} (e.g. "disk.raw"). */
record MountedImage(String name, Path path, QedImage image) {
}
