#!/usr/bin/env bash
# The main job on a built-in example: a QED image holding an ext4 file system, mounted as a raw file.
# Run by `make demo`. Works without root (debugfs reads the guest); with root it also loop-mounts the guest.
set -euo pipefail
case "${1:-}" in
  -h|--help) echo "usage: $0   (what make demo runs: makes a QED image with an ext4 guest in a new temporary"
    echo "directory, mounts it, shows the guest's files, and leaves the image there to try more on)"; exit 0 ;;
  ?*) echo "usage: $0   (no arguments)" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
# mkfs.ext4 and debugfs live in /usr/sbin, which is not on a normal user's PATH on Debian
PATH=$PATH:/usr/sbin:/sbin
# the launcher make builds (as installed, but for this tree): the demo runs what it suggests at the end
LAUNCHER=$(pwd)/fuse/target/qedfs
if [ ! -x "$LAUNCHER" ]; then
  echo "demo.sh: $LAUNCHER is missing: make demo builds it first (or make build)" >&2; exit 1
fi
QEDFS=("$LAUNCHER")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/qedfs-demo.XXXXXX")
MNT="$WORK/mnt"
GUEST="$WORK/guest"
mkdir -p "$MNT" "$GUEST"
# the example image (and empty mountpoints for it) stay, for the commands suggested at the end
cleanup() {
  mountpoint -q "$GUEST" 2>/dev/null && umount "$GUEST"
  mountpoint -q "$MNT" 2>/dev/null && "${QEDFS[@]}" unmount "$MNT"
  rm -f "$WORK/hello.txt" "$WORK/random.bin"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. Build an example guest disk: a 256 MiB QED image holding ext4 with a few files"
"${QEDFS[@]}" create "$WORK/disk.qed" 256M
printf 'Hello from inside a QED image.\n' > "$WORK/hello.txt"
head -c 3000000 /dev/urandom > "$WORK/random.bin"
"${QEDFS[@]}" mount "$WORK/disk.qed" "$MNT"
mkfs.ext4 -q -F -L demo "$MNT/disk.raw"
debugfs -w -R "mkdir docs" "$MNT/disk.raw" >/dev/null 2>&1
debugfs -w -R "write $WORK/hello.txt docs/hello.txt" "$MNT/disk.raw" >/dev/null 2>&1
debugfs -w -R "write $WORK/random.bin random.bin" "$MNT/disk.raw" >/dev/null 2>&1
"${QEDFS[@]}" unmount "$MNT"
echo "made $WORK/disk.qed ($(du -h "$WORK/disk.qed" | cut -f1) on disk for a 256 MiB guest)"

step "2. qedfs info and check: the image as QEMU would see it"
"${QEDFS[@]}" info "$WORK/disk.qed"
"${QEDFS[@]}" check "$WORK/disk.qed"

step "3. Mount it read-only: the image appears as a raw file"
"${QEDFS[@]}" mount -r "$WORK/disk.qed" "$MNT"
ls -ls "$MNT"
file -s "$MNT/disk.raw" 2>/dev/null || true

step "4. Look inside the guest file system"
debugfs -R "ls -l /docs" "$MNT/disk.raw" 2>/dev/null
echo "docs/hello.txt says: $(debugfs -R 'cat /docs/hello.txt' "$MNT/disk.raw" 2>/dev/null)"
if [ "$(id -u)" = 0 ]; then
  mount -o loop,ro "$MNT/disk.raw" "$GUEST"
  echo "loop-mounted at $GUEST:"; ls -l "$GUEST" "$GUEST/docs"
  cmp "$GUEST/random.bin" "$WORK/random.bin" && echo "random.bin is byte-identical to the file written in"
  umount "$GUEST"
fi

step "5. Unmount: every image flushed, marked clean and closed"
"${QEDFS[@]}" unmount "$MNT"
if command -v qemu-img >/dev/null; then
  echo "qemu-img check agrees:"; qemu-img check "$WORK/disk.qed"
fi

REPO=$(pwd)
step "Try next: the example image stays in $WORK"
# sudo runs qedfs by its full name: sudo knows neither the alias nor a PATH of the user's own (~/.local/bin)
if command -v qedfs >/dev/null; then
  ROOT_QEDFS=$(command -v qedfs)
else
  ROOT_QEDFS=$LAUNCHER
  echo "  alias qedfs=$LAUNCHER   # or: make install (qedfs on the PATH, with tab completion)"
fi
echo "  cd $WORK"
echo "  qedfs mount disk.qed mnt && ls -ls mnt   # read-write: mnt/disk.raw is a disk to dd, fdisk, mkfs"
if [ "$(id -u)" = 0 ]; then
  cat <<NEXT
  mount -o loop mnt/disk.raw guest && ls guest   # the guest's files, read-write
  umount guest; qedfs unmount mnt
NEXT
else
  # a loop device needs root, and root may not enter another user's FUSE mount (only one mounted with
  # -o allow_root, which needs user_allow_other in /etc/fuse.conf): so root mounts the image itself
  cat <<NEXT
  /usr/sbin/debugfs -R 'ls -l /docs' mnt/disk.raw   # the guest's files without root (debugfs -w: write)
  qedfs unmount mnt
  # a loop mount needs root, and root cannot enter your FUSE mount: root mounts the image itself
  sudo $ROOT_QEDFS mount disk.qed mnt && sudo mount -o loop mnt/disk.raw guest && ls guest
  sudo umount guest; sudo $ROOT_QEDFS unmount mnt
NEXT
fi
cat <<NEXT
  qedfs map disk.qed                       # which guest ranges are stored where
  $REPO/examples/inspect.sh disk.qed        # and dd-test.sh, loop-mount.sh (root)
  qedfs --help; qedfs mount --help         # every command, with examples
NEXT
