#!/usr/bin/env bash
# One qedfs mount of a directory of N QED images: seconds from `qedfs mount` to a ready mount, and the serving
# process's memory once every raw file has been opened and read and some have been written.
#
# Usage: bench/many-images.sh [N]     (N images, default 10000; needs /dev/fuse, fusermount, qemu-img, qemu-io, python3)
# Environment (defaults in brackets):
#   IMAGE_SIZE [64M]    virtual size of each image (one made by qemu-img create -f qed, copied N times)
#   READ_KIB [1024]     bytes read from the start of every raw file (every read is checked to be zeroes)
#   WRITE_EVERY [10]    every WRITE_EVERY-th file gets 1 MiB of its own pattern at 8 MiB, fsync'd
#   QEDFS [fuse/target/qedfs]   the launcher (made by `make build` if missing); the server runs with the heap
#                       settings `qedfs mount` gives it (see Daemonizer)
#   KEEP_WORK [0]       1 keeps the scratch directory (images, log) under ${TMPDIR:-/tmp}
# Output: one "name value" line per figure, for `make bench` to collect:
#   images                N
#   mount_seconds         wall time of `qedfs mount` (it returns once the mount answers)
#   rss_mounted_kib       the server's VmRSS right after the mount
#   touch_seconds         wall time to open, read (and write) every file
#   rss_touched_kib       the server's VmRSS after that
#   hwm_kib               the server's VmHWM (peak RSS) by then
#   open_images_touched   images the server had open right then (lazy ones close after 2 s unused)
#   rss_idle_kib          VmRSS once the images have been closed for being idle
#   unmount_seconds       wall time of `qedfs unmount`
#   written_images_ok     written images whose pattern qemu-io reads back after unmount (checked: every one)
# Not a test: nothing fails on timing. The exit status is non-zero when a step fails or content does not verify.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-10000}
IMAGE_SIZE=${IMAGE_SIZE:-64M} READ_KIB=${READ_KIB:-1024} WRITE_EVERY=${WRITE_EVERY:-10} KEEP_WORK=${KEEP_WORK:-0}
for v in N READ_KIB WRITE_EVERY; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "many-images: $v must be a positive whole number, not '${!v}'" >&2; exit 2; }
done
QEDFS=${QEDFS:-$PWD/fuse/target/qedfs}
[ -x "$QEDFS" ] || make build >&2
for tool in qemu-img qemu-io python3 fusermount; do
  command -v "$tool" >/dev/null || { echo "many-images: $tool is missing: make deps" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/qedfs-many-images.XXXXXX")
IMAGES=$WORK/images MNT=$WORK/mnt LOG=$WORK/qedfs.log
mkdir -p "$IMAGES" "$MNT"
cleanup() {
  if grep -q " $MNT " /proc/mounts; then "$QEDFS" unmount "$MNT" >/dev/null 2>&1 || fusermount -uz "$MNT" || true; fi
  if [ "$KEEP_WORK" = 1 ]; then echo "many-images: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

qemu-img create -q -f qed "$WORK/template.qed" "$IMAGE_SIZE"
python3 - "$WORK/template.qed" "$IMAGES" "$N" <<'EOF'
import shutil, sys
template, images, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(n):
    shutil.copyfile(template, f"{images}/disk{i:05d}.qed")
EOF
sync

now() { date +%s.%N; }
seconds() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$1" "$2"; }
status() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

start=$(now)
out=$("$QEDFS" mount --log "$LOG" "$IMAGES" "$MNT")
end=$(now)
PID=$(sed -n 's/.*(process \([0-9]*\).*/\1/p' <<<"$out")
[ -n "$PID" ] || { echo "many-images: no server pid in: $out" >&2; exit 1; }
echo "images $N"
echo "mount_seconds $(seconds "$start" "$end")"
echo "rss_mounted_kib $(status "$PID" VmRSS)"

start=$(now)
python3 - "$MNT" "$N" "$READ_KIB" "$WRITE_EVERY" <<'EOF'
import os, sys
mnt, n, read_kib, every = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
zeros = bytes(read_kib * 1024)
for i in range(n):
    path = f"{mnt}/disk{i:05d}.raw"
    write = i % every == 0
    fd = os.open(path, os.O_RDWR if write else os.O_RDONLY)
    try:
        if os.pread(fd, len(zeros), 0) != zeros:
            sys.exit(f"many-images: {path} does not read as zeroes")
        if write:
            os.pwrite(fd, bytes([i % 251 + 1]) * (1 << 20), 8 << 20)
            os.fsync(fd)
    finally:
        os.close(fd)
EOF
end=$(now)
echo "touch_seconds $(seconds "$start" "$end")"
echo "rss_touched_kib $(status "$PID" VmRSS)"
echo "hwm_kib $(status "$PID" VmHWM)"
echo "open_images_touched $(find "/proc/$PID/fd" -lname "$IMAGES/*" 2>/dev/null | xargs -r -n1 readlink | sort -u | wc -l)"
sleep 5   # lazy images close 2 s after their last use, checked once a second
echo "rss_idle_kib $(status "$PID" VmRSS)"

start=$(now)
"$QEDFS" unmount "$MNT" >/dev/null
end=$(now)
echo "unmount_seconds $(seconds "$start" "$end")"
ok=0
for ((i = 0; i < N; i += WRITE_EVERY)); do
  img=$(printf '%s/disk%05d.qed' "$IMAGES" "$i")
  pattern=$(printf '0x%02x' $((i % 251 + 1)))
  if qemu-io -f qed -c "read -q -P $pattern 8M 1M" "$img" 2>&1 | grep -q .; then
    echo "many-images: $img does not hold what was written through the mount" >&2; exit 1
  fi
  ok=$((ok + 1))
done
echo "written_images_ok $ok"
