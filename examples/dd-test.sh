#!/usr/bin/env bash
# dd-based testing: write patterns at odd offsets through the mount, read them back, compare; then let
# QEMU check and read the same image.
# Usage: examples/dd-test.sh [IMAGE.qed]   (a scratch image is made when none is given)
set -euo pipefail
QEDFS=${QEDFS:-"java -jar $(dirname "$0")/../fuse/target/qedfs.jar"}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/qedfs-dd.XXXXXX")
IMAGE=${1:-$WORK/scratch.qed}
[ -e "$IMAGE" ] || $QEDFS create -q "$IMAGE" 1G
trap 'mountpoint -q "$WORK/mnt" && $QEDFS unmount "$WORK/mnt"; rm -rf "$WORK"' EXIT
mkdir "$WORK/mnt"
$QEDFS mount "$IMAGE" "$WORK/mnt"
RAW="$WORK/mnt/$(basename "${IMAGE%.qed}").raw"

for offset in 0 4095 65537 1048575 123456789; do
  head -c 300001 /dev/urandom > "$WORK/pattern"
  # conv=notrunc: a disk cannot be truncated (qedfs refuses to shrink an image)
  dd if="$WORK/pattern" of="$RAW" bs=4096 seek="$offset" oflag=seek_bytes conv=notrunc,fsync status=none
  dd if="$RAW" of="$WORK/back" bs=4096 skip="$offset" count=300001 iflag=skip_bytes,count_bytes status=none
  cmp "$WORK/pattern" "$WORK/back" && echo "offset $offset: 300001 bytes read back identical"
  cp "$WORK/pattern" "$WORK/last-pattern"; last=$offset
done

$QEDFS unmount "$WORK/mnt"
qemu-img check "$IMAGE"
# QEMU reads the same bytes back from the image file (the output is sparse: only data takes space)
qemu-img convert -f qed -O raw "$IMAGE" "$WORK/qemu.raw"
cmp <(dd if="$WORK/qemu.raw" bs=4096 skip="$last" count=300001 iflag=skip_bytes,count_bytes status=none) "$WORK/last-pattern" \
  && echo "qemu-img convert sees the same pattern at offset $last"
