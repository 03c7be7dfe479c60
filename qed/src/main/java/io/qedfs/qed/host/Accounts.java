package io.qedfs.qed.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;

/**
 * Who a user id is, as the kernel's permission checks need it: the groups the user is in. Read from the system's
 * user database through libc (so LDAP and other NSS sources count). Without the libc binding every account is
 * unknown, which only makes the checks that use it stricter: an unknown user is in no group.
 */
public final class Accounts {
    private static final LibC LIBC = LibC.get();
    /** Accounts looked up so far, by uid; an unknown user maps to one with no name and no groups. */
    private static final Map<Integer, Account> CACHE = new ConcurrentHashMap<>();

    /** A user: {@code name} null when the database has no entry; {@code groupIds} primary first. */
    public record Account(int uid, String name, int[] groupIds) {
        public boolean inGroup(int gid) {
            return IntStream.of(groupIds).anyMatch(g -> g == gid);
        }

        /** "alice (uid 1001)", or "uid 1001" for a user without a name. */
        @Override
        public String toString() {
            return name == null ? "uid " + uid : name + " (uid " + uid + ")";
        }
    }

    private Accounts() {
    }

    public static Account of(int uid) {
        return CACHE.computeIfAbsent(uid, u -> {
            Account a = LIBC == null ? null : LIBC.account(u);
            return a != null ? a : new Account(u, null, new int[0]);
        });
    }

    /** The real user id of this process: the one whose reads the kernel checks when qedfs opens a file. */
    public static int processUid() {
        if (LIBC != null) {
            return LIBC.getuid();
        }
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | RuntimeException e) {
            return -1; // unknown: no reader is taken for this process, so every one is checked
        }
    }
}
