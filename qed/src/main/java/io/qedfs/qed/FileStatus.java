package io.qedfs.qed;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;

/**
 * What stat(2) says about a host file that matters for serving it: its type and permission bits ({@code mode},
 * as st_mode), owner, group and times.
 */
public record FileStatus(int mode, int uid, int gid, FileTime accessed, FileTime modified, FileTime changed) {
    /** The status of the file {@code path} names (symbolic links followed). */
    public static FileStatus of(Path path) throws IOException {
        Map<String, Object> a = Files.readAttributes(path, "unix:mode,uid,gid,lastAccessTime,lastModifiedTime,ctime");
        return new FileStatus((Integer) a.get("mode"), (Integer) a.get("uid"), (Integer) a.get("gid"),
                (FileTime) a.get("lastAccessTime"), (FileTime) a.get("lastModifiedTime"), (FileTime) a.get("ctime"));
    }

    /** The permission bits alone (mode & 07777). */
    public int permissions() {
        return mode & 07777;
    }
}
