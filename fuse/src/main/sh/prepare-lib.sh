#!/bin/sh
# prepare-lib.sh DIR: prepares DIR/qedfs.jar for fast start-up (run by make after the jar is in its place):
#  - DIR/libjffi-1.2.so, jffi's native library for this machine, taken out of the jar once (jffi otherwise
#    copies it to a temporary file, and seeds a SecureRandom for its name, on every start);
#  - DIR/qedfs.jsa, a class-data sharing archive of every class the commands load, recorded from runs of them
#    on a scratch image: the JVM maps the classes parsed and verified instead of loading them from the jar
#    (picocli's classes too, which a dynamic archive cannot hold). Dumped under G1, whatever the machine's
#    default collector, so that it holds the module graph and strings too (a JVM under G1 maps them, as a
#    mount's server does; the launcher gives it G1). The JVM checks that the jar's path and
#    modification time are those recorded, so this must run on the jar where it will be used.
# Neither is needed: the launcher uses them when they are present and current. Failures here only warn.
set -u
dir=$(cd "$1" && pwd) || exit 0
jar=$dir/qedfs.jar
work=$(mktemp -d "${TMPDIR:-/tmp}/qedfs-prepare.XXXXXX") || exit 0
trap 'rm -rf "$work"' EXIT
warn() { echo "prepare-lib: $*; qedfs works without it, only starts slower" >&2; }

case $(uname -s)-$(uname -m) in
  Linux-x86_64) native=jni/x86_64-Linux/libjffi-1.2.so ;;
  Linux-aarch64) native=jni/aarch64-Linux/libjffi-1.2.so ;;
  *) native= ;;
esac
rm -f "$dir/libjffi-1.2.so"
if [ -n "$native" ] && command -v jar > /dev/null; then
  (cd "$work" && jar xf "$jar" "$native") && [ -f "$work/$native" ] && cp "$work/$native" "$dir/libjffi-1.2.so" \
    || warn "could not take $native out of $jar"
fi

# the classes the commands load: one run of each on a scratch image, the lists joined in first-seen order
n=0
record() {
  n=$((n + 1))
  java -XX:DumpLoadedClassList="$work/classes.$n" -Djffi.boot.library.path="$dir" -jar "$jar" "$@" > /dev/null 2>&1
}
train() { record "$@" || warn "training run '$*' failed"; }
img=$work/train.qed
# A mount as `qedfs mount` runs its server (ServerReport: a waiting command's pid in QEDFS_MOUNT_PARENT, the
# report on stderr), with a read and a write through it, so that the archive holds the server's classes too:
# the FUSE binding, the session loop, the engine's I/O path. Needs /dev/fuse and libfuse2; skipped otherwise.
train_mount() {
  [ -e /dev/fuse ] && mkdir "$work/mnt" && fresh_image "$work/serve.qed" || return 1
  n=$((n + 1))
  QEDFS_MOUNT_PARENT=$$ java -XX:DumpLoadedClassList="$work/classes.$n" -Djffi.boot.library.path="$dir" -jar "$jar" \
    mount "$work/serve.qed" "$work/mnt" > /dev/null 2> "$work/serve.err" &
  server=$!
  waited=0 # tenths of a second; a build script may poll
  until grep -q '^qedfs-mount-status: ' "$work/serve.err" 2> /dev/null; do
    if [ $waited -ge 600 ] || ! kill -0 $server 2> /dev/null; then
      kill $server 2> /dev/null; wait $server; return 1
    fi
    sleep 0.1; waited=$((waited + 1))
  done
  grep -q '^qedfs-mount-status: ready' "$work/serve.err" || { wait $server; return 1; }
  dd if="$work/mnt/serve.raw" of=/dev/null bs=1M count=8 2> /dev/null
  dd if="$work/data" of="$work/mnt/serve.raw" bs=64k seek=3 conv=notrunc,fsync 2> /dev/null
  ls -l "$work/mnt" > /dev/null
  record unmount "$work/mnt"
  wait $server
}
fresh_image() { # a new image, made by qedfs itself
  java -Djffi.boot.library.path="$dir" -jar "$jar" create -q "$1" 64M > /dev/null 2>&1
}
train --version
train --help
train create -q "$img" 256M
train info "$img"
train info --output=json "$img"
train map "$img"
train check "$img"
# an image with data, so that the check's and map's paths through L2 tables are recorded too
head -c 65536 /dev/urandom > "$work/data" && dd if="$work/data" of="$work/data.raw" bs=64k seek=100 2> /dev/null \
  && truncate -s 64M "$work/data.raw" && train convert -q -O qed "$work/data.raw" "$work/data.qed" \
  && train check "$work/data.qed" && train map "$work/data.qed"
train check -r all "$img"
train resize -q "$img" +64M
train convert -q -O raw "$img" "$work/train.raw"
train convert -q -O qed "$work/train.raw" "$work/train2.qed"
train compact -q "$img"
train mount --help
record nosuchcommand # a usage error, as users make them
train_mount || warn "the training mount failed: the archive holds no server classes (the mount starts slower)"
cat "$work"/classes.* | awk '!seen[$0]++' > "$work/classes"
rm -f "$dir/qedfs.jsa"
java -Xshare:dump -XX:+UseG1GC -XX:SharedClassListFile="$work/classes" -XX:SharedArchiveFile="$dir/qedfs.jsa" -cp "$jar" \
  > "$work/dump.log" 2>&1 || { warn "the class-data archive could not be made ($(tail -1 "$work/dump.log"))"; rm -f "$dir/qedfs.jsa"; }
exit 0
