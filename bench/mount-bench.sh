#!/usr/bin/env bash
# qedfs mount vs qemu-storage-daemon's FUSE export (QEMU's own QED driver) on the same workloads, same run,
# alternating rounds; medians, and the speed-up of qedfs over QSD for each, checked against the targets in METRICS.
#
# Usage: bench/mount-bench.sh [--quick]        (root: loop devices, drop_caches)
# Sizes, rounds and durations come from the environment (defaults in brackets; --quick changes the defaults):
#   SIZE_MB [512; quick 64]       data written/read sequentially, and the region fio works on
#   ROUNDS [7; quick 1]           rounds per tool; the tool that goes first alternates from round to round
#                                 (7: on a 2-core VM a median of 3 moves by 10-20% from run to run, and the
#                                 medians of 5 of the workloads nearest their targets land on either side of
#                                 them)
#   FIO_SECONDS [15; quick 3]     length of each fio run (time-based), after FIO_RAMP [2; quick 0] seconds
#   TREE_FILES [10000; quick 1000] small files (1-16 KiB, deterministic) copied into the ext4 guest
#   FSCK_L2 [500; quick 50]       L2 tables in the dirty image that both checkers check (2 GiB of image each)
#   IMAGE_SIZE [1G]               virtual size of every fresh image (qemu-img create -f qed)
#   OUT [bench/RESULTS.md; quick bench/RESULTS-quick.md]   where the report goes
#   STEP_TIMEOUT [900]            seconds any single dd/fio/cp/check may take before the run is abandoned
#   KEEP_WORK [0]                 1 keeps the scratch directory (logs, images) after the run
#   PREFAULT [1]                  1 touches the machine's free memory once before measuring (see below)
#   WORKLOADS [seq fio guest fsck dirty sparse many startup]   which workload groups run (a subset for a look
#                                 at some: WORKLOADS='dirty sparse many startup' runs only the issue 17 rows)
#   DIRTY_L2 [10240; quick 64]    L2 tables of the dirty image whose ready time is measured (2 GiB of image each:
#                                 20 TiB; its host file holds 320 KiB per table, 3.2 GiB; skipped without the room)
#   SPARSE_SIZE [64G; quick 4G]   virtual size of the image whose raw file cp --sparse=always copies (2 MiB of data)
#   MANY [10000; quick 200]       images in one mount, by bench/many-images.sh (skipped if that script is missing)
#   STARTUP_N [5; quick 3]        mount/unmount pairs per round, each after a bare java -Xshare:auto -version
# Scratch files (data, images, tree: about 2 x SIZE_MB + 300 MB) go under ${TMPDIR:-/tmp}; use a disk, not tmpfs.
# Not a test: nothing fails on timing. The exit status is non-zero only when a step fails or an image or a
# guest file system does not verify after a clean unmount.
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0
for arg in "$@"; do
  case $arg in
    --quick) QUICK=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "mount-bench: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
if [ "$QUICK" = 1 ]; then
  SIZE_MB=${SIZE_MB:-64} ROUNDS=${ROUNDS:-1} FIO_SECONDS=${FIO_SECONDS:-3} FIO_RAMP=${FIO_RAMP:-0}
  TREE_FILES=${TREE_FILES:-1000} FSCK_L2=${FSCK_L2:-50} OUT=${OUT:-bench/RESULTS-quick.md}
  DIRTY_L2=${DIRTY_L2:-64} SPARSE_SIZE=${SPARSE_SIZE:-4G} MANY=${MANY:-200} STARTUP_N=${STARTUP_N:-3}
fi
SIZE_MB=${SIZE_MB:-512} ROUNDS=${ROUNDS:-7} FIO_SECONDS=${FIO_SECONDS:-15} FIO_RAMP=${FIO_RAMP:-2}
TREE_FILES=${TREE_FILES:-10000} FSCK_L2=${FSCK_L2:-500} IMAGE_SIZE=${IMAGE_SIZE:-1G}
OUT=${OUT:-bench/RESULTS.md} STEP_TIMEOUT=${STEP_TIMEOUT:-900} KEEP_WORK=${KEEP_WORK:-0} PREFAULT=${PREFAULT:-1}
WORKLOADS=${WORKLOADS:-seq fio guest fsck dirty sparse many startup}
DIRTY_L2=${DIRTY_L2:-10240} SPARSE_SIZE=${SPARSE_SIZE:-64G} MANY=${MANY:-10000} STARTUP_N=${STARTUP_N:-5}
SETTINGS="SIZE_MB=$SIZE_MB ROUNDS=$ROUNDS FIO_SECONDS=$FIO_SECONDS FIO_RAMP=$FIO_RAMP TREE_FILES=$TREE_FILES FSCK_L2=$FSCK_L2 IMAGE_SIZE=$IMAGE_SIZE DIRTY_L2=$DIRTY_L2 SPARSE_SIZE=$SPARSE_SIZE MANY=$MANY STARTUP_N=$STARTUP_N WORKLOADS='$WORKLOADS'"
CMDLINE="$SETTINGS bench/mount-bench.sh${*:+ $*}"

for w in $WORKLOADS; do
  case $w in seq|fio|guest|fsck|dirty|sparse|many|startup) ;;
    *) echo "mount-bench: unknown workload '$w' in WORKLOADS (seq fio guest fsck dirty sparse many startup)" >&2; exit 2 ;; esac
done
for v in SIZE_MB ROUNDS FIO_SECONDS FIO_RAMP TREE_FILES FSCK_L2 STEP_TIMEOUT DIRTY_L2 MANY STARTUP_N; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "mount-bench: $v must be a whole number, not '${!v}'" >&2; exit 2; }
done
for v in SIZE_MB ROUNDS FIO_SECONDS TREE_FILES FSCK_L2 DIRTY_L2 MANY STARTUP_N; do
  [ "${!v}" -gt 0 ] || { echo "mount-bench: $v must be at least 1" >&2; exit 2; }
done
IMAGE_BYTES=$(numfmt --from=iec "${IMAGE_SIZE^^}" 2>/dev/null) || { echo "mount-bench: IMAGE_SIZE '$IMAGE_SIZE' is not a size like 1G" >&2; exit 2; }
[ $((SIZE_MB << 20)) -le "$IMAGE_BYTES" ] || { echo "mount-bench: SIZE_MB=$SIZE_MB does not fit in IMAGE_SIZE=$IMAGE_SIZE" >&2; exit 2; }
SPARSE_BYTES=$(numfmt --from=iec "${SPARSE_SIZE^^}" 2>/dev/null) || { echo "mount-bench: SPARSE_SIZE '$SPARSE_SIZE' is not a size like 64G" >&2; exit 2; }
[ "$SPARSE_BYTES" -ge $((4 << 20)) ] || { echo "mount-bench: SPARSE_SIZE must be at least 4M" >&2; exit 2; }
has_workload() { case " $WORKLOADS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

QEDFS=$PWD/fuse/target/qedfs   # the launcher `make build` makes, as `make install` installs it (class-data archive)
[ -x "$QEDFS" ] || make build
[ "$(id -u)" = 0 ] || { echo "mount-bench: needs root (loop devices, drop_caches)" >&2; exit 1; }
for tool in qemu-img qemu-io qemu-storage-daemon fio mkfs.ext4 e2fsck losetup python3 java; do
  command -v "$tool" >/dev/null || { echo "mount-bench: $tool is missing: make deps" >&2; exit 1; }
done
[ -e /dev/fuse ] || { echo "mount-bench: /dev/fuse is missing (modprobe fuse)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/qedfs-mount-bench.XXXXXX")
WORK=$(cd "$WORK" && pwd -P)
case $WORK in *[[:space:]:,\\]*) echo "mount-bench: scratch path '$WORK' must not contain blanks, ':', ',' or '\\'" >&2; rmdir "$WORK"; exit 1 ;; esac
DATA=$WORK/data.bin            # SIZE_MB of random data, the source of every write
IMG=$WORK/disk.qed             # the image under test, fresh for each workload
MNT=$WORK/mnt                  # qedfs mountpoint: $MNT/disk.raw
QSD_FILE=$WORK/qsd.raw         # QSD's export mountpoint (a regular file that becomes the raw disk)
GUEST=$WORK/guest              # where the guest ext4 is mounted
TREE=$WORK/tree                # the small-file tree copied into the guest
FSCK_IMG=$WORK/fsck.qed        # dirty image with FSCK_L2 L2 tables
DIRTY_IMG=$WORK/dirty.qed      # dirty image with DIRTY_L2 L2 tables (20 TiB by default), for the ready time
SPARSE_IMG=$WORK/sparse/disk.qed   # SPARSE_SIZE image holding 2 MiB of data, for cp --sparse=always
SPARSE_COPY=$WORK/sparse-copy.raw
LOGS=$WORK/logs
mkdir -p "$MNT" "$GUEST" "$LOGS"

RAW=""         # the raw file currently served ($MNT/disk.raw or $QSD_FILE)
SERVE_PID=""   # the process serving it
QSD_PID=""
QEDFS_PID=""
LOOP=""
NMOUNT=0
PROBLEMS=()    # verification failures: reported, and make the exit status 1
DROP_CACHES=yes
REPORTING_ORDER_WAS=""   # free page reporting's order before the run, when the run paused it

# ---------------------------------------------------------------------------------------------------------
# helpers
now() { local t=${EPOCHREALTIME/[.,]/}; echo "$t"; }                  # microseconds
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", (b - a) / 1e6}'; }
mbps() { awk -v mib="$1" -v a="$2" -v b="$3" 'BEGIN {printf "%.1f", mib * 1048576 / ((b - a) / 1e6) / 1e6}'; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "-"; else print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
declare -A V    # V[tool|metric] = "round1 round2 ..."
declare -A SKIPPED=()  # SKIPPED[workload] = why it did not run
rec() { V[$1|$2]+="$3 "; }
problem() { PROBLEMS+=("$*"); echo "mount-bench: PROBLEM: $*" >&2; }
limited() { timeout --foreground -k 10 "$STEP_TIMEOUT" "$@"; }   # --foreground: Ctrl-C still reaches the command
is_mounted() { awk -v m="$1" '$5 == m {f = 1} END {exit !f}' /proc/self/mountinfo; }
mounts_under() { awk -v w="$1/" 'index($5, w) == 1 {print $5}' /proc/self/mountinfo; }
mount_source() { awk -v m="$1" '$5 == m {for (i = 7; i <= NF; i++) if ($i == "-") {print $(i + 2); exit}}' /proc/self/mountinfo; }
gone() { ! kill -0 "$1" 2>/dev/null; }
ended() { gone "$1" || [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" = Z ]; }   # a zombie has ended too
wait_gone() { # pid seconds: true once the process has exited
  local i
  for ((i = 0; i < $2 * 20; i++)); do gone "$1" && return 0; sleep 0.05; done
  gone "$1"
}
drop_caches() {
  sync
  if [ "$DROP_CACHES" = yes ] && ! { echo 3 > /proc/sys/vm/drop_caches; } 2>/dev/null; then
    DROP_CACHES="no (/proc/sys/vm/drop_caches not writable)"; echo "mount-bench: cannot drop caches; reads may be warm" >&2
  fi
}
warm() { cat "$@" > /dev/null; }       # put a file in the page cache
need_check() { local f; f=$(od -An -t u8 -j 16 -N 8 "$1" | tr -d ' '); echo $(( (f >> 1) & 1 )); }
set_need_check() { # image: sets NEED_CHECK (features bit 1, value 0x2, at byte 16), as a crash leaves it
  python3 - "$1" <<'EOF'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(16)
    features, = struct.unpack("<Q", f.read(8))
    f.seek(16)
    f.write(struct.pack("<Q", features | 0x2))
EOF
}
fresh_image() { rm -f "$IMG"; qemu-img create -q -f qed "$IMG" "$IMAGE_SIZE"; }
vmhwm_mb() { awk '/^VmHWM:/ {printf "%.1f", $2 * 1024 / 1e6}' "/proc/$1/status"; }

# ---------------------------------------------------------------------------------------------------------
# serving: start_TOOL sets RAW and SERVE_PID and records the time from start to ready; stop_TOOL ends it
start_qedfs() {
  local s e src
  NMOUNT=$((NMOUNT + 1))
  s=$(now)
  "$QEDFS" mount --log "$LOGS/qedfs-$NMOUNT.log" "$IMG" "$MNT" > /dev/null
  e=$(now)
  src=$(mount_source "$MNT")
  QEDFS_PID=${src#qedfs:}
  [[ $QEDFS_PID =~ ^[0-9]+$ ]] || { echo "mount-bench: no qedfs mount at $MNT after 'qedfs mount' (source '$src')" >&2; exit 1; }
  rec qedfs mount "$(secs "$s" "$e")"
  RAW=$MNT/disk.raw SERVE_PID=$QEDFS_PID
}

stop_qedfs() {
  local s e
  s=$(now)
  "$QEDFS" unmount "$MNT" > /dev/null
  e=$(now)
  rec qedfs stop "$(secs "$s" "$e")"
  ! is_mounted "$MNT" || { echo "mount-bench: $MNT still mounted after 'qedfs unmount'" >&2; exit 1; }
  wait_gone "$QEDFS_PID" 10 || problem "qedfs process $QEDFS_PID still running after 'qedfs unmount' returned"
  QEDFS_PID="" RAW="" SERVE_PID=""
}

# QSD runs in the background as our child, so $! is its pid (no --pidfile needed) and `wait` gives its exit
# status. Not --daemonize: that would return once the export is set up, but a daemonized QSD (7.2) chdirs to /
# and, given a relative mountpoint, cannot unmount it on SIGTERM and leaves a stale mount ("Transport endpoint
# is not connected") behind; and its exit status would be lost. Paths here are absolute either way.
start_qsd() {
  local s e
  NMOUNT=$((NMOUNT + 1))
  : > "$QSD_FILE"
  s=$(now)
  qemu-storage-daemon --blockdev "driver=file,node-name=f,filename=$IMG" --blockdev driver=qed,node-name=q,file=f \
    --export "type=fuse,id=e,node-name=q,mountpoint=$QSD_FILE,writable=on" > "$LOGS/qsd-$NMOUNT.log" 2>&1 &
  QSD_PID=$!
  until is_mounted "$QSD_FILE"; do
    if gone "$QSD_PID"; then
      echo "mount-bench: qemu-storage-daemon exited before its export was mounted: $(tail -1 "$LOGS/qsd-$NMOUNT.log")" >&2
      QSD_PID=""; exit 1
    fi
    (( $(now) - s < 60000000 )) || { echo "mount-bench: qemu-storage-daemon's export not mounted after 60 s" >&2; exit 1; }
  done
  e=$(now)
  rec qsd mount "$(secs "$s" "$e")"
  RAW=$QSD_FILE SERVE_PID=$QSD_PID
}

# SIGTERM: QSD drains, flushes (one fdatasync of the image after clearing NEED_CHECK), unmounts and exits 0.
stop_qsd() {
  local s e rc=0
  s=$(now)
  kill -TERM "$QSD_PID"
  wait "$QSD_PID" || rc=$?
  e=$(now)
  rec qsd stop "$(secs "$s" "$e")"
  QSD_PID=""
  [ "$rc" = 0 ] || problem "qemu-storage-daemon exited with status $rc on SIGTERM"
  ! is_mounted "$QSD_FILE" || { echo "mount-bench: $QSD_FILE still mounted after qemu-storage-daemon exited" >&2; exit 1; }
  RAW="" SERVE_PID=""
}

start() { "start_$1"; }
stop() { "stop_$1"; }

# After a clean unmount the image must pass qemu-img check and have NEED_CHECK clear.
verify_image() { # what-happened
  local out
  out=$(qemu-img check "$IMG" 2>&1) || problem "$1: qemu-img check failed: $(echo "$out" | tr '\n' ' ')"
  [ "$(need_check "$IMG")" = 0 ] || problem "$1: NEED_CHECK still set after a clean unmount"
}
verify_data() { # what-happened: the first SIZE_MB of the image equal $DATA, the rest unallocated or zero
  qemu-img compare -q -f raw -F qed "$DATA" "$IMG" || problem "$1: image content differs from what was written"
}

# ---------------------------------------------------------------------------------------------------------
# workloads; each takes the tool (qedfs | qsd) and starts from a fresh image
timed_dd() { # tool metric dd-operands...: SIZE_MB MiB in 1 MiB blocks, recorded as MB/s
  local t=$1 metric=$2 s e
  shift 2
  s=$(now)
  limited dd "$@" bs=1M count="$SIZE_MB" status=none
  e=$(now)
  rec "$t" "$metric" "$(mbps "$SIZE_MB" "$s" "$e")"
}
timed_write() { # tool file conv: $DATA written to file (seqwrite, or seqwrite_fsync when conv has fsync)
  timed_dd "$1" "seqwrite$([ "$3" = notrunc ] || echo _fsync)" if="$DATA" of="$2" conv="$3"
}

seq_workload() {
  local t=$1
  for conv in notrunc notrunc,fsync; do
    fresh_image
    start "$t"
    warm "$DATA"; sync
    timed_write "$t" "$RAW" "$conv"
    stop "$t"
    verify_image "$t seq write (conv=$conv)"; verify_data "$t seq write (conv=$conv)"
  done
  # read it back on a fresh mount with the page cache dropped (the image's and, for QSD, the export's)
  start "$t"
  drop_caches
  timed_dd "$t" seqread if="$RAW" of=/dev/null
  stop "$t"
  verify_image "$t seq read"
}

# The same dd commands on a plain file beside the images: what the host's page cache and disk allow without any
# FUSE or QED in between, the ceiling both tools are measured against (recorded as tool "file").
seq_plain_file() {
  local f=$WORK/plain.raw conv
  for conv in notrunc notrunc,fsync; do
    rm -f "$f"; warm "$DATA"; sync
    timed_write file "$f" "$conv"
  done
  cmp -s "$DATA" "$f" || problem "plain file: content differs from what was written"
  drop_caches
  timed_dd file seqread if="$f" of=/dev/null
  rm -f "$f"
}

fio_run() { # tool rw jobs: IOPS (and, for 1 job, clat p50/p99 in µs)
  local t=$1 rw=$2 jobs=$3 json=$LOGS/fio-$1-$2-$3.json dir vals
  limited fio --name="$rw$jobs" --filename="$RAW" --rw="$rw" --bs=4k --direct=1 --ioengine=psync \
    --numjobs="$jobs" --size="${SIZE_MB}M" --fallocate=none --time_based --runtime="$FIO_SECONDS" \
    --ramp_time="$FIO_RAMP" --group_reporting --output-format=json --output="$json" > /dev/null
  dir=${rw#rand}
  vals=$(python3 - "$json" "$dir" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
job = json.loads(text[text.index("{"):])["jobs"][0]
d = job[sys.argv[2]]
if job.get("error") or d["io_bytes"] == 0:
    sys.exit("fio reported error %s, %d bytes" % (job.get("error"), d["io_bytes"]))
p = d["clat_ns"]["percentile"]
print("%.0f %.1f %.1f" % (d["iops"], p["50.000000"] / 1000, p["99.000000"] / 1000))
EOF
  )
  read -r iops p50 p99 <<< "$vals"
  rec "$t" "$rw$jobs" "$iops"
  if [ "$jobs" = 1 ]; then rec "$t" "${rw}1_p50" "$p50"; rec "$t" "${rw}1_p99" "$p99"; fi
}

fio_workload() {
  local t=$1
  fresh_image
  start "$t"
  limited dd if="$DATA" of="$RAW" bs=1M count="$SIZE_MB" conv=notrunc,fsync status=none   # untimed prefill
  for rw in randread randwrite; do
    for jobs in 4 1; do fio_run "$t" "$rw" "$jobs"; done
  done
  rec "$t" rss "$(vmhwm_mb "$SERVE_PID")"   # peak since this mount started: prefill + the fio runs
  stop "$t"
  verify_image "$t fio"
}

detach_loop() {
  local dev=$1 name i
  name=${dev#/dev/}
  losetup -d "$dev" 2>/dev/null || true
  # detaching is deferred while anything (udev) still has the device open; wait until it has let go
  for ((i = 0; i < 200; i++)); do [ -e "/sys/block/$name/loop/backing_file" ] || return 0; sleep 0.05; done
  echo "mount-bench: $dev still attached after 10 s" >&2; return 1
}

# mkfs, a loop device, ext4 mounted on it, cp -a of the tree, syncfs: timed from the copy to the end of the sync;
# then every file there, and e2fsck clean
guest_on() { # tool raw-file
  local t=$1 raw=$2 s e n
  s=$(now)
  limited mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$raw"   # no background init during the copy
  e=$(now)
  rec "$t" mkfs "$(secs "$s" "$e")"
  LOOP=$(losetup --find --show "$raw")      # what mount -o loop does, with the device name kept for cleanup
  mount "$LOOP" "$GUEST"
  find "$TREE" -type f -exec cat {} + > /dev/null
  sync
  s=$(now)
  limited cp -a "$TREE" "$GUEST/"
  sync -f "$GUEST"                          # syncfs of the guest: journal + data through the loop device
  e=$(now)
  rec "$t" guest "$(secs "$s" "$e")"
  n=$(find "$GUEST/tree" -type f | wc -l)
  [ "$n" = "$TREE_FILES" ] || problem "$t guest: $n files in the guest, expected $TREE_FILES"
  umount "$GUEST"
  detach_loop "$LOOP"; LOOP=""
  limited e2fsck -fn "$raw" > "$LOGS/e2fsck-$t.log" 2>&1 || problem "$t guest: e2fsck -fn found errors ($(tail -1 "$LOGS/e2fsck-$t.log"))"
}

guest_workload() {
  local t=$1
  fresh_image
  start "$t"
  guest_on "$t" "$RAW"
  stop "$t"
  verify_image "$t guest"
}

# The guest on a sparse plain raw file of the image's size: the loop device straight on the host file system
guest_plain_file() {
  local f=$WORK/plain-guest.raw
  rm -f "$f"; truncate -s "$IMAGE_SIZE" "$f"
  guest_on file "$f"
  rm -f "$f"
}

fsck_workload() {
  local t=$1 s e rc=0
  warm "$FSCK_IMG"
  s=$(now)
  case $t in
    qedfs) limited "$QEDFS" check -q "$FSCK_IMG" || rc=$? ;;
    qsd) limited qemu-img check -q "$FSCK_IMG" || rc=$? ;;
  esac
  e=$(now)
  [ "$rc" = 0 ] || problem "$t fsck: check exited $rc on an image that has no errors"
  [ "$(need_check "$FSCK_IMG")" = 1 ] || problem "$t fsck: a check without -r cleared NEED_CHECK"
  rec "$t" fsck "$(secs "$s" "$e")"
}

# A dirty image of DIRTY_L2 L2 tables (2 GiB each: 20 TiB for 10240), as a crash leaves it (NEED_CHECK set):
# one 64 KiB write into each 2 GiB stretch gives each its own L2 table. Made once, if the disk has room for it.
prepare_dirty() {
  local need avail i writes=()
  has_workload dirty || return 0
  need=$(( DIRTY_L2 * 320 * 1024 + (1 << 30) ))   # 256 KiB table + 64 KiB data each, and 1 GiB to spare
  avail=$(df --output=avail -B1 "$WORK" | tail -1)
  if [ "$avail" -lt "$need" ]; then
    SKIPPED[dirty]="needs $((need >> 30)) GiB free in $WORK, has $((avail >> 30)) GiB"; return 0
  fi
  echo "preparing a dirty $((DIRTY_L2 * 2)) GiB image with $DIRTY_L2 L2 tables"
  qemu-img create -q -f qed "$DIRTY_IMG" "$((DIRTY_L2 * 2))G"
  for ((i = 0; i < DIRTY_L2; i++)); do writes+=(-c "write -P $((i % 255 + 1)) $((i * 2))G 64k"); done
  limited qemu-io "${writes[@]}" "$DIRTY_IMG" > /dev/null
  set_need_check "$DIRTY_IMG"
}

# Ready time of the dirty image from cold caches: qedfs from the start of `qedfs mount` to its return (its
# check, if it runs before the mount is ready, included); the peer is `qemu-img check` on the same image, the
# check QEMU runs before it serves a dirty image. After the unmount (untimed) the image is made dirty again.
dirty_workload() {
  local t=$1 s e rc=0
  [ -z "${SKIPPED[dirty]:-}" ] || return 0
  [ "$(need_check "$DIRTY_IMG")" = 1 ] || set_need_check "$DIRTY_IMG"
  drop_caches
  s=$(now)
  case $t in
    qedfs) limited "$QEDFS" mount -q --log "$LOGS/dirty-$((NMOUNT += 1)).log" "$DIRTY_IMG" "$MNT" || rc=$? ;;
    qsd) limited qemu-img check -q "$DIRTY_IMG" || rc=$? ;;
  esac
  e=$(now)
  [ "$rc" = 0 ] || problem "$t dirty image: exited $rc"
  rec "$t" dirty "$(secs "$s" "$e")"
  if [ "$t" = qedfs ] && [ "$rc" = 0 ]; then
    QEDFS_PID=$(mount_source "$MNT"); QEDFS_PID=${QEDFS_PID#qedfs:}
    "$QEDFS" unmount "$MNT" > /dev/null || problem "qedfs dirty image: unmount failed"
    QEDFS_PID=""
    local out; out=$(qemu-img check "$DIRTY_IMG" 2>&1) || problem "qedfs dirty image: qemu-img check after unmount: $(echo "$out" | tr '\n' ' ')"
  fi
  set_need_check "$DIRTY_IMG"
}

# An image of SPARSE_SIZE holding 2 MiB of data (1 MiB at the start, 1 MiB in the middle); its raw file copied
# with cp --sparse=always, which skips holes with SEEK_DATA/SEEK_HOLE where the file system answers them.
prepare_sparse() {
  has_workload sparse || return 0
  mkdir -p "${SPARSE_IMG%/*}"
  qemu-img create -q -f qed "$SPARSE_IMG" "$SPARSE_SIZE"
  qemu-io -c "write -P 7 0 1M" -c "write -P 9 $(( SPARSE_BYTES / 2 )) 1M" "$SPARSE_IMG" > /dev/null
}

sparse_workload() {
  local t=$1 s e IMG=$SPARSE_IMG   # start_TOOL serves $IMG (as disk.raw for qedfs)
  start "$t"
  rm -f "$SPARSE_COPY"
  s=$(now)
  limited cp --sparse=always "$RAW" "$SPARSE_COPY"
  e=$(now)
  rec "$t" sparse "$(secs "$s" "$e")"
  stop "$t"
  qemu-img compare -q -f raw -F qed "$SPARSE_COPY" "$SPARSE_IMG" || problem "$t sparse copy: differs from the image"
  [ "$(du -k "$SPARSE_COPY" | cut -f1)" -le 8192 ] || problem "$t sparse copy: $(du -h "$SPARSE_COPY" | cut -f1) allocated, not sparse"
  rm -f "$SPARSE_COPY"
}

# MANY images in one mount, by bench/many-images.sh (the 10,000-images item's own bench): seconds from
# `qedfs mount` to ready, and the server's RSS once every file was opened, read and some written. QEMU serves
# one image per process: no peer.
many_workload() {
  local t=$1 out
  [ "$t" = qedfs ] || return 0
  if [ ! -x bench/many-images.sh ]; then SKIPPED[many]="bench/many-images.sh is missing"; return 0; fi
  out=$(QEDFS=$QEDFS limited bench/many-images.sh "$MANY" 2> "$LOGS/many-$r.err") || { problem "many-images.sh $MANY failed: $(tail -1 "$LOGS/many-$r.err")"; return 0; }
  rec qedfs many_ready "$(awk '$1 == "mount_seconds" {print $2}' <<< "$out")"
  rec qedfs many_rss "$(awk '$1 == "rss_touched_kib" {printf "%.1f", $2 * 1024 / 1e6}' <<< "$out")"
}

# Start-up: STARTUP_N times a bare JVM (java -Xshare:auto -version), then `qedfs mount` of a fresh 1 GiB image to
# its return (ready), then `qedfs unmount` to its return; the bare JVM, measured right before each, is the peer
# of both (recorded in the QSD column).
startup_workload() {
  local t=$1 i s e
  [ "$t" = qedfs ] || return 0
  fresh_image
  for ((i = 0; i < STARTUP_N; i++)); do
    s=$(now); java -Xshare:auto -version 2> /dev/null; e=$(now)
    rec qsd startup_mount "$(secs "$s" "$e")"; rec qsd startup_stop "$(secs "$s" "$e")"
    s=$(now); "$QEDFS" mount -q "$IMG" "$MNT"; e=$(now)
    rec qedfs startup_mount "$(secs "$s" "$e")"
    QEDFS_PID=$(mount_source "$MNT"); QEDFS_PID=${QEDFS_PID#qedfs:}
    s=$(now); "$QEDFS" unmount "$MNT"; e=$(now)
    rec qedfs startup_stop "$(secs "$s" "$e")"
    ended "$QEDFS_PID" || problem "qedfs process $QEDFS_PID still running after 'qedfs unmount' returned"
    QEDFS_PID=""
  done
  verify_image "qedfs start-up"
}

# ---------------------------------------------------------------------------------------------------------
# cleanup: always, whatever failed: guest, loop device, qedfs mount, QSD, scratch directory
cleanup() {
  local rc=$? m
  set +e
  trap '' INT TERM
  [ -z "$REPORTING_ORDER_WAS" ] || echo "$REPORTING_ORDER_WAS" > "$REPORTING_ORDER"
  if is_mounted "$GUEST"; then umount "$GUEST" 2>/dev/null || umount -l "$GUEST"; fi
  [ -z "$LOOP" ] || detach_loop "$LOOP"
  if is_mounted "$MNT"; then
    timeout 90 "$QEDFS" unmount --timeout 60 "$MNT" > /dev/null || fusermount -u -z "$MNT"
  fi
  if [ -n "$QEDFS_PID" ] && ! gone "$QEDFS_PID"; then
    kill -TERM "$QEDFS_PID"; wait_gone "$QEDFS_PID" 15 || kill -KILL "$QEDFS_PID"
  fi
  if [ -n "$QSD_PID" ] && ! gone "$QSD_PID"; then
    kill -TERM "$QSD_PID"; wait_gone "$QSD_PID" 15 || kill -KILL "$QSD_PID"; wait "$QSD_PID" 2>/dev/null
  fi
  if is_mounted "$QSD_FILE"; then fusermount3 -u -z "$QSD_FILE" 2>/dev/null || umount -l "$QSD_FILE"; fi
  m=$(mounts_under "$WORK")
  if [ -n "$m" ]; then
    echo "mount-bench: still mounted, so $WORK was left in place: $m" >&2; rc=1
  elif [ "$rc" != 0 ] || [ "$KEEP_WORK" = 1 ]; then
    [ "$rc" = 0 ] || for f in $(ls -t "$LOGS"/qedfs-*.log "$LOGS"/qsd-*.log 2>/dev/null | head -2); do
      [ -s "$f" ] && { echo "--- last lines of $f" >&2; tail -5 "$f" >&2; }
    done
    if [ "$KEEP_WORK" = 1 ]; then echo "mount-bench: scratch directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------------------
# preparation (untimed)
# On a virtual machine the first write to a guest page the hypervisor has not backed yet faults on the host:
# such memory fills at about 0.3 GB/s on the VM behind RESULTS.md. A timed write that grows the page cache into it
# measures the hypervisor, not the tool, and by how much differs from round to round. Touching the free
# memory once (all but 2 GiB) makes every round start from the same state for both tools.
# A balloon with free page reporting (virtio, order >= 9) hands freed memory back to the host, after which
# it faults again: every drop_caches and unmount would undo the touching. Reporting is paused for the run
# (an order above the largest free block) and restored on exit.
REPORTING_ORDER=/sys/module/page_reporting/parameters/page_reporting_order
PREFAULTED="no"
if [ "$PREFAULT" = 1 ] && [ -w "$REPORTING_ORDER" ]; then
  REPORTING_ORDER_WAS=$(cat "$REPORTING_ORDER")
  echo 11 > "$REPORTING_ORDER"
fi
if [ "$PREFAULT" = 1 ]; then
  echo "touching free memory once (PREFAULT=0 skips this)"
  start=$(date +%s.%N)
  PREFAULTED=$(python3 -c '
import mmap
avail = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemAvailable:")) * 1024
n = max(0, avail - (2 << 30)) & ~0xfff
if n:
    m = mmap.mmap(-1, n)
    for i in range(0, n, 4096):
        m[i] = 1
    m.close()
print(f"{n / 1e9:.1f} GB")
')
  PREFAULTED="$PREFAULTED in $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.0f", e - s}') s"
  [ -z "$REPORTING_ORDER_WAS" ] || PREFAULTED="$PREFAULTED; free page reporting paused (order $REPORTING_ORDER_WAS -> 11, restored after)"
fi
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
# read before the report rewrites $OUT, which would count as a change (other than the report itself)
VERSION_AT_START="$(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- . ":(exclude)$OUT" 2>/dev/null || echo ' (with uncommitted changes)')"
echo "mount-bench: $CMDLINE"
echo "preparing in $WORK what the workloads need: data, a tree of small files, dirty and sparse images"
# (only what the workloads in WORKLOADS use)
if has_workload seq || has_workload fio; then head -c $((SIZE_MB << 20)) /dev/urandom > "$DATA"; fi
has_workload guest && python3 - "$TREE" "$TREE_FILES" <<'EOF'
# deterministic: 100 files per directory, sizes 1-16 KiB, contents from a seeded generator
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(20240505)
for i in range(n):
    d = os.path.join(root, "d%03d" % (i // 100))
    if i % 100 == 0:
        os.makedirs(d)
    with open(os.path.join(d, "f%05d" % i), "wb") as f:
        f.write(rng.randbytes(rng.randint(1024, 16384)))
EOF
# fsck image: one 256 KiB write into each 2 GiB stretch gives each its own L2 table (64 KiB clusters,
# table_size 4: one L2 table maps 2 GiB); then NEED_CHECK (features bit 1, value 0x2, at byte 16) is set
if has_workload fsck; then
  qemu-img create -q -f qed "$FSCK_IMG" "$((FSCK_L2 * 2))G"
  writes=()
  for ((i = 0; i < FSCK_L2; i++)); do writes+=(-c "write -P $((i % 255 + 1)) $((i * 2))G 256k"); done
  qemu-io "${writes[@]}" "$FSCK_IMG" > /dev/null
  set_need_check "$FSCK_IMG"
  [ "$(need_check "$FSCK_IMG")" = 1 ] || { echo "mount-bench: could not mark $FSCK_IMG dirty" >&2; exit 1; }
fi
prepare_dirty
prepare_sparse

# ---------------------------------------------------------------------------------------------------------
# the rounds: in each, every workload runs for both tools back to back; odd rounds start with qedfs
for ((r = 1; r <= ROUNDS; r++)); do
  if ((r % 2)); then order="qedfs qsd"; else order="qsd qedfs"; fi
  for w in $WORKLOADS; do
    for t in $order; do
      echo "round $r/$ROUNDS: $w on $t"
      "${w}_workload" "$t"
    done
    if declare -F "${w}_plain_file" > /dev/null; then echo "round $r/$ROUNDS: $w on a plain file"; "${w}_plain_file"; fi
  done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------------------------------------
# report
# key | what | unit | better (hi/lo) | target: "x N" = speed-up >= N, "<= N" = qedfs's own figure at most N
METRICS=(
  "seqwrite|seq write, dd bs=1M conv=notrunc|MB/s|hi|x 2.0"
  "seqwrite_fsync|seq write, dd bs=1M conv=notrunc,fsync|MB/s|hi|x 2.0"
  "seqread|seq read, dd bs=1M, fresh mount, caches dropped|MB/s|hi|x 1.5"
  "randread4|fio 4k randread, 4 jobs|IOPS|hi|x 2.0"
  "randread1|fio 4k randread, 1 job|IOPS|hi|"
  "randread1_p50|fio 4k randread, 1 job, clat p50|µs|lo|"
  "randread1_p99|fio 4k randread, 1 job, clat p99|µs|lo|"
  "randwrite4|fio 4k randwrite, 4 jobs|IOPS|hi|x 1.5"
  "randwrite1|fio 4k randwrite, 1 job|IOPS|hi|"
  "randwrite1_p50|fio 4k randwrite, 1 job, clat p50|µs|lo|"
  "randwrite1_p99|fio 4k randwrite, 1 job, clat p99|µs|lo|"
  "guest|guest: cp -a $TREE_FILES files to ext4 + syncfs|s|lo|x 1.2"
  "mkfs|guest: mkfs.ext4 (no lazy init)|s|lo|"
  "fsck|check dirty image, $FSCK_L2 L2 tables (qedfs check / qemu-img check)|s|lo|x 1.0"
  "mount|start to ready (mount / export in mountinfo)|s|lo|<= 1.5"
  "rss|peak RSS (VmHWM) of the server under fio|MB|lo|<= 300"
  "stop|unmount / SIGTERM to exit|s|lo|"
  "dirty|dirty $((DIRTY_L2 * 2 / 1024)) TiB image, $DIRTY_L2 L2 tables, caches dropped: ready (qedfs mount / qemu-img check)|s|lo|x 4.0"
  "sparse|cp --sparse=always of a $SPARSE_SIZE image's raw file holding 2 MiB|s|lo|<= 2"
  "many_ready|$MANY images in one mount: start to ready (no peer: QEMU serves one per process)|s|lo|<= 5"
  "many_rss|$MANY images: server RSS after every file was opened, read, some written|MB|lo|<= 256"
  "startup_mount|start-up: qedfs mount to ready / java -Xshare:auto -version (QSD column)|s|lo|x 0.25"
  "startup_stop|start-up: qedfs unmount / java -Xshare:auto -version (QSD column)|s|lo|x 0.25"
)
series() { echo "${V[$1|$2]:-}" | tr ' ' '\n' | grep . || true; }
fmt() { # value unit
  case $2 in
    IOPS) awk -v v="$1" 'BEGIN {printf "%.0f", v}' ;;
    s) awk -v v="$1" 'BEGIN {printf "%.3f", v}' ;;
    *) awk -v v="$1" 'BEGIN {printf "%.1f", v}' ;;
  esac
}
fmt_all() { # unit values...: each formatted, separated by blanks
  local unit=$1 v out=""
  shift
  for v in "$@"; do out+="$(fmt "$v" "$unit") "; done
  echo "${out% }"
}
speedup() { # qedfs qsd better
  awk -v j="$1" -v q="$2" -v b="$3" 'BEGIN {if (j <= 0 || q <= 0) print "-"; else printf "%.2f", (b == "hi" ? j / q : q / j)}'
}
SUMMARY=()   # rows: what|unit|qedfs|qsd|speed-up|target|verdict|plain file (qedfs's share of it)
FAILS=0
for m in "${METRICS[@]}"; do
  IFS='|' read -r key what unit better target <<< "$m"
  j=$(series qedfs "$key" | median); q=$(series qsd "$key" | median)
  [ "$j" != - ] || continue
  su=$(speedup "$j" "$q" "$better")
  verdict=""; tgt=""
  case $target in
    "x "*) tgt="≥ ${target#x }×"
      verdict=$(awk -v s="$su" -v t="${target#x }" 'BEGIN {print (s != "-" && s >= t) ? "pass" : "FAIL"}') ;;
    "<= "*) lim=${target#<= }
      if [ "$key" = rss ] || [ "$key" = many_rss ]; then # the worst round counts for memory
        worst=$(series qedfs "$key" | sort -g | tail -1); tgt="≤ $lim $unit (max of rounds: $(fmt "$worst" "$unit"))"
      else worst=$j; tgt="≤ $lim $unit (median)"; fi
      verdict=$(awk -v v="$worst" -v t="$lim" 'BEGIN {print (v <= t) ? "pass" : "FAIL"}') ;;
  esac
  [ "$verdict" != FAIL ] || FAILS=$((FAILS + 1))
  p=$(series file "$key" | median); plain=""
  [ "$p" = - ] || plain="$(fmt "$p" "$unit") (qedfs $(awk -v j="$j" -v p="$p" -v b="$better" 'BEGIN {printf "%.0f", 100 * (b == "hi" ? j / p : p / j)}') %)"
  SUMMARY+=("$what|$unit|$(fmt "$j" "$unit")|$( [ "$q" = - ] && echo - || fmt "$q" "$unit")|$su|$tgt|$verdict|$plain")
done

# the journal at the end of the report (runs so far, what changed between them, what was tried) is written by
# hand and carried over from the report this run replaces
JOURNAL=$(sed -n '/^## Journal/,$p' "$OUT" 2>/dev/null || true)
{
  echo "# qedfs mount vs qemu-storage-daemon FUSE export"
  echo
  [ "$QUICK" = 0 ] || { echo "**Quick smoke run (\`--quick\`): small sizes, one round — the figures mean nothing.**"; echo; }
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: $(nproc) cores ($(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)), $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM, kernel $(uname -r)"
  echo "- scratch file system: $(df -T "$WORK" | awk 'NR == 2 {print $2}'); load average at start $LOAD_START, at end $LOAD_END"
  echo "- $(qemu-storage-daemon --version | head -1); $(qemu-img --version | head -1); $(fio --version)"
  echo "- $(java -version 2>&1 | head -1); qedfs at $VERSION_AT_START"
  echo "- command: \`$CMDLINE\`"
  echo "- page cache dropped before the sequential read: $DROP_CACHES; free memory touched once before measuring: $PREFAULTED"
  echo
  echo "**Speed-up of qedfs over QSD**, from the medians of $ROUNDS round(s): for throughput and IOPS qedfs ÷ QSD; for"
  echo "times, latencies and memory QSD ÷ qedfs. Either way **> 1 means qedfs is faster (or smaller)**. The targets"
  echo "are the project's; mount time and RSS are absolute targets on qedfs's own figure. MB = 10^6 bytes."
  echo
  echo "| workload | unit | qedfs | QSD | speed-up | target | | plain file (ceiling) |"
  echo "|---|---|---:|---:|---:|---|---|---:|"
  for row in "${SUMMARY[@]}"; do IFS='|' read -r a b c d e f g h <<< "$row"; echo "| $a | $b | $c | $d | $e | $f | $g | $h |"; done
  echo
  echo "## Every round"
  echo
  echo "| workload | unit | qedfs, per round | QSD, per round | speed-up, per round | plain file, per round |"
  echo "|---|---|---|---|---|---|"
  for m in "${METRICS[@]}"; do
    IFS='|' read -r key what unit better target <<< "$m"
    mapfile -t js < <(series qedfs "$key"); mapfile -t qs < <(series qsd "$key"); mapfile -t ps < <(series file "$key")
    [ "${#js[@]}" -gt 0 ] || continue
    jl=$(fmt_all "$unit" "${js[@]}"); ql=$(fmt_all "$unit" "${qs[@]}"); pl=$(fmt_all "$unit" "${ps[@]}"); sl=""
    if [ "$key" = mount ] || [ "$key" = stop ] || [[ $key = startup_* ]]; then
      sl="(per mount; medians above)"
    else
      for i in "${!js[@]}"; do sl+="$(speedup "${js[$i]}" "${qs[$i]:-0}" "$better") "; done
    fi
    echo "| $what | $unit | $jl | $ql | ${sl% } | $pl |"
  done
  echo
  echo "## How it was measured"
  echo
  echo "- Every workload starts from a fresh \`qemu-img create -f qed IMG $IMAGE_SIZE\` (defaults: 64 KiB clusters)."
  echo "  qedfs: \`qedfs mount IMG DIR\` (returns when ready), \`qedfs unmount DIR\` (returns once flushed and closed)."
  echo "  \`qedfs\` is the launcher \`make build\` makes (fuse/target/qedfs, the same script \`make install\` installs),"
  echo "  which starts the JVM with the class-data archive and jffi's library prepared for the jar at build time."
  echo "  QSD: \`qemu-storage-daemon --blockdev driver=file,node-name=f,filename=IMG --blockdev driver=qed,node-name=q,file=f"
  echo "  --export type=fuse,id=e,node-name=q,mountpoint=FILE,writable=on\` in the background, ready when FILE appears in"
  echo "  /proc/self/mountinfo, ended by SIGTERM and waited for (exit status 0 required)."
  echo "- After every unmount the image passed \`qemu-img check\` with NEED_CHECK clear; after each sequential write"
  echo "  \`qemu-img compare\` matched the image against the data written; the guest file system passed \`e2fsck -fn\`"
  echo "  and held all $TREE_FILES files."
  echo "- Rounds alternate which tool goes first (odd rounds qedfs, even rounds QSD); within a round each workload"
  echo "  runs for both tools back to back."
  echo "- Sequential: $SIZE_MB MiB of random data from a file in the page cache, \`sync\` before timing; the"
  echo "  read happens on a fresh mount after \`sync; echo 3 > /proc/sys/vm/drop_caches\`. MB/s = bytes / wall time."
  echo "- Plain file (ceiling): in every round the same three dd commands on a new regular file in the scratch"
  echo "  directory, beside the images: the host page cache and disk with no FUSE and no QED in between. qedfs's"
  echo "  share of it is in brackets. A write with fsync cannot beat the disk; qedfs starts the disk writes of a"
  echo "  growing image as it goes (a plain dd leaves them all to its fsync), so it can come out above 100 %."
  echo "- fio: \`--bs=4k --direct=1 --ioengine=psync --size=${SIZE_MB}M --time_based --runtime=$FIO_SECONDS --ramp_time=$FIO_RAMP"
  echo "  --group_reporting\` over the first $SIZE_MB MiB, which were written (and fsynced) first, so reads hit allocated"
  echo "  clusters and writes overwrite them (no allocation); the image file itself is in the host page cache for both."
  echo "  Order: randread 4 jobs, 1 job; randwrite 4 jobs, 1 job. Latency is fio's completion latency (clat)."
  echo "- Peak RSS: VmHWM of the serving process (the qedfs JVM; qemu-storage-daemon) read after the fio runs;"
  echo "  it covers that mount's whole life (prefill + fio)."
  echo "- Guest: \`mkfs.ext4 -E lazy_itable_init=0,lazy_journal_init=0\` on the raw file, a loop device on it, ext4"
  echo "  mounted; timed from the start of \`cp -a\` of a deterministic tree ($TREE_FILES files, 1–16 KiB, in the page"
  echo "  cache) to the end of \`sync -f\` (syncfs) on the guest."
  echo "  The same on a sparse plain raw file of $IMAGE_SIZE beside the images (the loop device straight on it) is"
  echo "  the guest's ceiling; qedfs's share of it is the plain file's time over qedfs's."
  echo "- fsck: a $((FSCK_L2 * 2)) GiB image with one 256 KiB write in each 2 GiB (so $FSCK_L2 L2 tables), NEED_CHECK set"
  echo "  (features bit 0x2), in the page cache; \`qedfs check IMG\` (JVM start included) vs \`qemu-img check IMG\`;"
  echo "  neither repairs without -r. Not a 1 GiB image: a 1 GiB image has one L2 table."
  echo "- Mount: qedfs from the start of \`qedfs mount\` (JVM start included) to its return; QSD from its start to"
  echo "  the export in mountinfo (polled continuously). \"stop\" is \`qedfs unmount\` to its return / SIGTERM to exit."
  echo "- Dirty image: $((DIRTY_L2 * 2)) GiB, one 64 KiB write in each 2 GiB (so $DIRTY_L2 L2 tables), NEED_CHECK set;"
  echo "  \`sync; echo 3 > /proc/sys/vm/drop_caches\` before each: qedfs from the start of \`qedfs mount\` to its return"
  echo "  (a ready mount), vs \`qemu-img check\` on it (what QEMU runs before serving a dirty image). The image is"
  echo "  made dirty again after each. Target: ready in at most 25 % of qemu-img check's time (speed-up ≥ 4)."
  echo "- Sparse copy: \`cp --sparse=always\` of the raw file of a $SPARSE_SIZE image holding 2 MiB (1 MiB at 0, 1 MiB in the"
  echo "  middle), on a fresh mount of each tool; the copy is checked with \`qemu-img compare\` and must stay sparse."
  echo "- $MANY images: \`bench/many-images.sh $MANY\` (its mount_seconds and rss_touched_kib); no peer."
  echo "- Start-up: in each round $STARTUP_N times \`java -Xshare:auto -version\` (the QSD column of both start-up rows),"
  echo "  then \`qedfs mount\` of a fresh image to its return and \`qedfs unmount\` to its return. Target: each at"
  echo "  most 4× the bare JVM's start (speed-up ≥ 0.25)."
  if [ "${#SKIPPED[@]}" -gt 0 ]; then
    echo
    echo "## Skipped"
    echo
    for w in "${!SKIPPED[@]}"; do echo "- $w: ${SKIPPED[$w]}"; done
  fi
  if [ "${#PROBLEMS[@]}" -gt 0 ]; then
    echo
    echo "## Problems"
    echo
    for p in "${PROBLEMS[@]}"; do echo "- $p"; done
  fi
  if [ -n "$JOURNAL" ]; then
    echo
    printf '%s\n' "$JOURNAL"
  fi
} > "$OUT"

echo
echo "speed-up of qedfs over QSD (> 1 = qedfs faster/smaller; times, latency, memory: QSD/qedfs; rates: qedfs/QSD)"
printf '%-62s %-5s %10s %10s %8s  %-28s %s\n' workload unit qedfs QSD speed-up "target" "plain file"
for row in "${SUMMARY[@]}"; do
  IFS='|' read -r a b c d e f g h <<< "$row"
  printf '%-62s %-5s %10s %10s %8s  %-28s %s\n' "$a" "$b" "$c" "$d" "$e" "$f $g" "$h"
done
echo
for w in "${!SKIPPED[@]}"; do echo "skipped $w: ${SKIPPED[$w]}"; done
echo "targets missed: $FAILS; problems: ${#PROBLEMS[@]}; report: $OUT"
[ "${#PROBLEMS[@]}" = 0 ]
