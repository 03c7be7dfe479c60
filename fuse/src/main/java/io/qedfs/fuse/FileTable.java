package io.qedfs.fuse;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The files under the mountpoint, fixed for the life of the mount: in readdir order (the images as given, then
 * their partitions), found by path ("/name.raw") or by the handle an open stores in {@code fi->fh}, which is the
 * file's place in that order plus one (0 is no handle).
 */
final class FileTable {
    private final List<ImageView> files;
    private final Map<String, Integer> indexByPath;

    FileTable(Map<String, ImageView> byPath) {
        this.files = List.copyOf(byPath.values());
        Map<String, Integer> index = new HashMap<>();
        byPath.keySet().forEach(path -> index.put(path, index.size()));
        this.indexByPath = Map.copyOf(index);
    }

    /** The file at {@code path}, or null. */
    ImageView byPath(String path) {
        Integer i = indexByPath.get(path);
        return i == null ? null : files.get(i);
    }

    /** The handle of the file at {@code path}, or 0 when there is none. */
    long handle(String path) {
        Integer i = indexByPath.get(path);
        return i == null ? 0 : i + 1L;
    }

    /** The file whose open stored {@code handle}, or null for 0 or a handle no open stored. */
    ImageView byHandle(long handle) {
        return handle > 0 && handle <= files.size() ? files.get((int) handle - 1) : null;
    }

    List<ImageView> inOrder() {
        return files;
    }

    int size() {
        return files.size();
    }
}
