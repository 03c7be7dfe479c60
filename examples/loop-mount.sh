#!/usr/bin/env bash
# Change files inside a guest file system: mount the image, loop-mount the guest, write, unmount both.
# Usage (root): examples/loop-mount.sh IMAGE.qed [FILE_TO_COPY_IN]
set -euo pipefail
USAGE="usage: $0 IMAGE.qed [FILE_TO_COPY_IN]   (root; copies the file into IMAGE's guest file system, making an
ext4 one first only on a disk that holds no data at all; make demo leaves an image to try)"
case "${1:-}" in
  -h|--help) echo "$USAGE"; exit 0 ;;
  ""|-*) echo "$USAGE" >&2; exit 2 ;;
esac
IMAGE=$1
PATH=$PATH:/usr/sbin:/sbin
FILE=${2:-/etc/hostname}
QEDFS=${QEDFS:-"java -jar $(dirname "$0")/../fuse/target/qedfs.jar"}
[ "$(id -u)" = 0 ] || { echo "loop devices need root" >&2; exit 1; }
MNT=$(mktemp -d "${TMPDIR:-/tmp}/qedfs-mnt.XXXXXX")
GUEST=$(mktemp -d "${TMPDIR:-/tmp}/qedfs-guest.XXXXXX")
cleanup() {
  mountpoint -q "$GUEST" && umount "$GUEST"
  mountpoint -q "$MNT" && $QEDFS unmount "$MNT"
  rmdir "$MNT" "$GUEST"
}
trap cleanup EXIT

$QEDFS mount "$IMAGE" "$MNT"
RAW="$MNT/$(basename "${IMAGE%.qed}").raw"
if ! blkid -p "$RAW" >/dev/null 2>&1; then
  # only a disk that holds no data at all gets a file system: anything else may be someone's data
  if qemu-img map -U -f qed --output=json "$IMAGE" | grep -q '"data": true'; then
    echo "$0: $IMAGE holds data but no file system to loop-mount (a partition table? see examples/inspect.sh);" \
      "nothing changed" >&2
    exit 1
  fi
  mkfs.ext4 -q "$RAW"
fi
mount -o loop "$RAW" "$GUEST"
cp "$FILE" "$GUEST/"
sync
ls -l "$GUEST"
umount "$GUEST"                      # detaches the loop device, so the unmount below is not busy
$QEDFS unmount "$MNT"                # returns once the image is flushed, marked clean and closed
qemu-img check "$IMAGE" 2>/dev/null || $QEDFS check "$IMAGE"
