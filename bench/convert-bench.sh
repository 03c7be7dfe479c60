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
for r in $(seq "$ROUNDS"); do
  for tool in qemu qedfs; do
    rm -f "$WORK"/out.*
    if [ $tool = qemu ]; then
      T[$tool-toqed]+="$(t qemu-img convert -f raw -O qed "$WORK/src.raw" "$WORK/out.qed") "
      T[$tool-toraw]+="$(t qemu-img convert -f qed -O raw "$WORK/src.qed" "$WORK/out.raw") "
    else
      T[$tool-toqed]+="$(t java -jar "$JAR" convert -q -O qed "$WORK/src.raw" "$WORK/out.qed") "
      T[$tool-toraw]+="$(t java -jar "$JAR" convert -q -O raw "$WORK/src.qed" "$WORK/out.raw") "
    fi
    cmp "$WORK/src.raw" "$WORK/out.raw"
    qemu-img compare -q -f raw -F qed "$WORK/src.raw" "$WORK/out.qed"
    echo "round $r $tool done"
  done
done

{
  echo "# convert benchmark"
  echo
  echo "$(date -u +%Y-%m-%d) · $(nproc) cores · $(uname -r) · $(qemu-img --version | head -1) · $(java -version 2>&1 | head -1)"
  echo
  echo "Fully written ${SIZE_MIB} MiB image of random data, page cache warm, $ROUNDS alternating rounds, median seconds."
  echo "Every output was verified: cmp for raw, qemu-img compare for qed. Command: \`bench/convert-bench.sh $SIZE_MIB $ROUNDS\`"
  echo
  echo "| direction | qemu-img convert | qedfs convert | ratio qedfs/qemu |"
  echo "|---|---:|---:|---:|"
  for d in toqed toraw; do
    q=$(echo "${T[qemu-$d]}" | tr ' ' '\n' | grep . | median)
    j=$(echo "${T[qedfs-$d]}" | tr ' ' '\n' | grep . | median)
    label=$([ $d = toqed ] && echo "raw → qed" || echo "qed → raw")
    echo "| $label | $q | $j | $(awk -v a="$j" -v b="$q" 'BEGIN {printf "%.2f", a / b}') |"
  done
  echo
  echo "Raw rounds (s): qemu→qed ${T[qemu-toqed]}; qedfs→qed ${T[qedfs-toqed]}; qemu→raw ${T[qemu-toraw]}; qedfs→raw ${T[qedfs-toraw]}"
} > bench/CONVERT-RESULTS.md
cat bench/CONVERT-RESULTS.md
