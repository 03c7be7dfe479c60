#!/usr/bin/env bash
# dd-based testing: write patterns at odd offsets through the mount, read them back, compare; then let
# QEMU check and read the same image.
usage() {
  cat <<USAGE
usage: $0 [IMAGE.qed]
Writes random patterns at odd offsets through a qedfs mount with dd, reads them back, and lets qemu-img
check and read the result. Without IMAGE it works on a scratch image of its own. IMAGE itself is never
changed: the writes go to an overlay (backing file: IMAGE) in a temporary directory, and QEMU reads that.
USAGE
}
case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  -*) echo "$0: unknown option $1" >&2; usage >&2; exit 2 ;;
esac
[ $# -le 1 ] || { usage >&2; exit 2; }
set -euo pipefail
QEDFS=${QEDFS:-"java -jar $(dirname "$0")/../fuse/target/qedfs.jar"}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/qedfs-dd.XXXXXX")
trap 'mountpoint -q "$WORK/mnt" && $QEDFS unmount "$WORK/mnt"; rm -rf "$WORK"' EXIT
mkdir "$WORK/mnt"
if [ $# = 1 ]; then
  IMAGE=$1
  [ -f "$IMAGE" ] || { echo "$0: $IMAGE: no such image" >&2; exit 1; }
  # an image someone else made may hold a guest file system: write only into an overlay over it
  $QEDFS mount -q --overlay-dir "$WORK" "$IMAGE" "$WORK/mnt"
  NAME=$(basename "${IMAGE%.qed}")
  WRITTEN="$WORK/$NAME.overlay.qed"
  echo "writing to an overlay over $IMAGE: $IMAGE is not changed"
else
  NAME=scratch
  WRITTEN="$WORK/scratch.qed"
  $QEDFS create -q "$WRITTEN" 1G
  $QEDFS mount -q "$WRITTEN" "$WORK/mnt"
fi
RAW="$WORK/mnt/$NAME.raw"
SIZE=$(stat -c %s "$RAW")

last=
for offset in 0 4095 65537 1048575 123456789; do
  if [ $((offset + 300001)) -gt "$SIZE" ]; then
    echo "offset $offset: skipped, past the end of the $SIZE-byte disk"
    continue
  fi
  head -c 300001 /dev/urandom > "$WORK/pattern"
  dd if="$WORK/pattern" of="$RAW" bs=4096 seek="$offset" oflag=seek_bytes conv=notrunc,fsync status=none
  dd if="$RAW" of="$WORK/back" bs=4096 skip="$offset" count=300001 iflag=skip_bytes,count_bytes status=none
  cmp "$WORK/pattern" "$WORK/back" && echo "offset $offset: 300001 bytes read back identical"
  cp "$WORK/pattern" "$WORK/last-pattern"; last=$offset
done
[ -n "$last" ] || { echo "$0: the disk is smaller than one pattern (300001 bytes)" >&2; exit 1; }

$QEDFS unmount "$WORK/mnt"
qemu-img check "$WRITTEN"
# QEMU reads the same bytes back from the image file (the output is sparse: only data takes space)
qemu-img convert -f qed -O raw "$WRITTEN" "$WORK/qemu.raw"
cmp <(dd if="$WORK/qemu.raw" bs=4096 skip="$last" count=300001 iflag=skip_bytes,count_bytes status=none) "$WORK/last-pattern" \
  && echo "qemu-img convert sees the same pattern at offset $last"
