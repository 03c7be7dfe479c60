#!/bin/sh
# prepare-lib.sh DIR: prepares DIR/qedfs.jar for fast start-up (run by make after the jar is in its place):
#  - DIR/libjffi-1.2.so, jffi's native library for this machine, taken out of the jar once (jffi otherwise
#    copies it to a temporary file, and seeds a SecureRandom for its name, on every start);
#  - DIR/qedfs.jsa, a class-data sharing archive of every class the commands load, recorded from runs of them
#    on a scratch image: the JVM maps the classes parsed and verified instead of loading them from the jar
#    (picocli's classes too, which a dynamic archive cannot hold). The JVM checks that the jar's path and
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
cat "$work"/classes.* | awk '!seen[$0]++' > "$work/classes"
rm -f "$dir/qedfs.jsa"
java -Xshare:dump -XX:SharedClassListFile="$work/classes" -XX:SharedArchiveFile="$dir/qedfs.jsa" -cp "$jar" \
  > "$work/dump.log" 2>&1 || { warn "the class-data archive could not be made ($(tail -1 "$work/dump.log"))"; rm -f "$dir/qedfs.jsa"; }
exit 0
