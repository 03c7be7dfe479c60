#!/usr/bin/env bash
# qedfs convert vs qemu-img convert, same files, same run, alternating rounds; medians and ratios.
# Usage: bench/convert-bench.sh [SIZE_MiB (default 2048)] [ROUNDS (default 3)]
# Writes bench/CONVERT-RESULTS.md. Not a test: nothing here passes or fails on timing.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=${1:-2048}
ROUNDS=${2:-3}
JAR=fuse/target/qedfs.jar
[ -f "$JAR" ] || make build
command -v qemu-img >/dev/null || { echo "qemu-img is missing: make deps" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/qedfs-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

echo "preparing a fully written ${SIZE_MIB} MiB raw image (random data) in $WORK"
head -c $((SIZE_MIB << 20)) /dev/urandom > "$WORK/src.raw"
qemu-img convert -f raw -O qed "$WORK/src.raw" "$WORK/src.qed"

t() { # seconds taken by a command, 3 decimals
  local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); awk -v a="$s" -v b="$e" 'BEGIN {printf "%.3f", (b - a) / 1e9}'
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

declare -A T
# Each timed command starts after `sync`, so no earlier run's writeback is charged to it.
# qemu: its default (no flush at the end) and -t writeback (flushes at the end, as qedfs always does).
timed() { rm -f "$WORK"/out.*; sync; t "$@"; }
for r in $(seq "$ROUNDS"); do
  for tool in qemu qemuwb qedfs; do
    case $tool in
      qemu)
        T[$tool-toqed]+="$(timed qemu-img convert -f raw -O qed "$WORK/src.raw" "$WORK/out.qed") "
        qemu-img compare -q -f raw -F qed "$WORK/src.raw" "$WORK/out.qed"
        T[$tool-toraw]+="$(timed qemu-img convert -f qed -O raw "$WORK/src.qed" "$WORK/out.raw") " ;;
      qemuwb)
        T[$tool-toqed]+="$(timed qemu-img convert -t writeback -f raw -O qed "$WORK/src.raw" "$WORK/out.qed") "
        qemu-img compare -q -f raw -F qed "$WORK/src.raw" "$WORK/out.qed"
        T[$tool-toraw]+="$(timed qemu-img convert -t writeback -f qed -O raw "$WORK/src.qed" "$WORK/out.raw") " ;;
      qedfs)
        T[$tool-toqed]+="$(timed java -jar "$JAR" convert -q -O qed "$WORK/src.raw" "$WORK/out.qed") "
        qemu-img compare -q -f raw -F qed "$WORK/src.raw" "$WORK/out.qed"
        T[$tool-toraw]+="$(timed java -jar "$JAR" convert -q -O raw "$WORK/src.qed" "$WORK/out.raw") " ;;
    esac
    # the last command of each tool left out.raw: verify it (and a fresh qed output) byte for byte
    cmp "$WORK/src.raw" "$WORK/out.raw"
    echo "round $r $tool done"
  done
done

{
  echo "# convert benchmark"
  echo
  echo "$(date -u +%Y-%m-%d) · $(nproc) cores · $(uname -r) · $(qemu-img --version | head -1) · $(java -version 2>&1 | head -1)"
  echo
  echo "Fully written ${SIZE_MIB} MiB image of random data, page cache warm, $ROUNDS alternating rounds, median seconds."
  echo "Each command ran after \`sync\`; times include JVM start-up for qedfs (about 0.3 s) and qedfs's final"
  echo "fdatasync. qemu-img's default does not flush its output; \`-t writeback\` flushes once at the end, as qedfs does."
  echo "Outputs verified with cmp. Command: \`bench/convert-bench.sh $SIZE_MIB $ROUNDS\`"
  echo
  echo "| direction | qemu-img (default) | qemu-img -t writeback | qedfs | qedfs / qemu default | qedfs / qemu writeback |"
  echo "|---|---:|---:|---:|---:|---:|"
  for d in toqed toraw; do
    q=$(echo "${T[qemu-$d]}" | tr ' ' '\n' | grep . | median)
    w=$(echo "${T[qemuwb-$d]}" | tr ' ' '\n' | grep . | median)
    j=$(echo "${T[qedfs-$d]}" | tr ' ' '\n' | grep . | median)
    label=$([ $d = toqed ] && echo "raw → qed" || echo "qed → raw")
    echo "| $label | $q | $w | $j | $(awk -v a="$j" -v b="$q" 'BEGIN {printf "%.2f", a / b}') | $(awk -v a="$j" -v b="$w" 'BEGIN {printf "%.2f", a / b}') |"
  done
  echo
  for k in qemu-toqed qemuwb-toqed qedfs-toqed qemu-toraw qemuwb-toraw qedfs-toraw; do echo "- $k rounds (s): ${T[$k]}"; done
} > bench/CONVERT-RESULTS.md
cat bench/CONVERT-RESULTS.md
