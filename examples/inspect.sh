#!/usr/bin/env bash
# Inspect an image without changing it: mount read-only, look at the raw disk, unmount.
# Usage: examples/inspect.sh IMAGE.qed
set -euo pipefail
case "${1:-}" in
  -h|--help) echo "usage: $0 IMAGE.qed   (read-only: IMAGE is not changed; make demo leaves one to try)"; exit 0 ;;
  ""|-*) echo "usage: $0 IMAGE.qed   (make demo leaves one to try)" >&2; exit 2 ;;
esac
IMAGE=$1
# fdisk, blkid and debugfs live in /usr/sbin, which is not on a normal user's PATH on Debian
PATH=$PATH:/usr/sbin:/sbin
QEDFS=${QEDFS:-"java -jar $(dirname "$0")/../fuse/target/qedfs.jar"}
MNT=$(mktemp -d "${TMPDIR:-/tmp}/qedfs-inspect.XXXXXX")
trap '$QEDFS unmount "$MNT" 2>/dev/null; rmdir "$MNT"' EXIT

$QEDFS info "$IMAGE"                 # size, clusters, backing file, dirty flag
$QEDFS check "$IMAGE" || true        # read-only consistency check (exit 3 = leaks only)
$QEDFS mount -r "$IMAGE" "$MNT"      # -r: the image is not changed at all
RAW="$MNT/$(basename "${IMAGE%.qed}").raw"
ls -ls "$RAW"                        # st_blocks shows what the image really stores
fdisk -l "$RAW" 2>/dev/null || true  # a partition table, if the guest has one
blkid -p "$RAW" 2>/dev/null || echo "no file system signature at offset 0"
# a file system directly on the disk can be browsed without root:
debugfs -R "ls -l /" "$RAW" 2>/dev/null || true
