package io.qedfs.qed;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;

/**
 * What stat(2) says about a host file that matters for serving it.
 *
 * @param mode     type and permission bits, as st_mode
 * @param uid      the owner
 * @param gid      the group
 * @param accessed the last access
 * @param modified the last change of the content
 * @param changed  the last change of the content or the status
 */
public record FileStatus(int mode, int uid, int gid, FileTime accessed, FileTime modified, FileTime changed) {
    /**
     * Reads a file's status.
     *
     * @param path the file (symbolic links followed)
     * @return its status
     * @throws IOException when it cannot be read
     */
    public static FileStatus of(Path path) throws IOException {
        Map<String, Object> a = Files.readAttributes(path, "unix:mode,uid,gid,lastAccessTime,lastModifiedTime,ctime");
        return new FileStatus((Integer) a.get("mode"), (Integer) a.get("uid"), (Integer) a.get("gid"),
                (FileTime) a.get("lastAccessTime"), (FileTime) a.get("lastModifiedTime"), (FileTime) a.get("ctime"));
    }

    /**
     * The permission bits alone.
     *
     * @return {@code mode & 07777}
     */
    public int permissions() {
        return mode & 07777;
    }
}
