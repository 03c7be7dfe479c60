#!/usr/bin/env bash
# Change files inside a guest file system: mount the image, loop-mount the guest, write, unmount both.
# Usage (root): examples/loop-mount.sh IMAGE.qed [FILE_TO_COPY_IN]
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 IMAGE.qed [FILE_TO_COPY_IN]   (root; make demo leaves an image to try)" >&2; exit 2; }
IMAGE=$1
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
blkid -p "$RAW" >/dev/null 2>&1 || mkfs.ext4 -q "$RAW"   # an empty disk gets a file system first
mount -o loop "$RAW" "$GUEST"
cp "$FILE" "$GUEST/"
sync
ls -l "$GUEST"
umount "$GUEST"                      # detaches the loop device, so the unmount below is not busy
$QEDFS unmount "$MNT"                # returns once the image is flushed, marked clean and closed
qemu-img check "$IMAGE" 2>/dev/null || $QEDFS check "$IMAGE"
