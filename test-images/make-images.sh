#!/usr/bin/env bash
# Regenerates every fixture in test-images/ (QED images, expected*.tsv, qemu-reference.md).
# Requires qemu-img/qemu-io (Debian package qemu-utils, tested with 7.2) and python3.
# Deterministic: running it twice yields byte-identical files (except "disk size"/"actual-size"
# in qemu-reference.md, which depend on the host filesystem's block allocation).
set -euo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$DIR"
export LC_ALL=C

for tool in qemu-img qemu-io python3 sha256sum; do
    command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 1; }
done

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# ---------------------------------------------------------------------------------------------
# helpers

# create NAME SIZE [qemu-img create options...]
create() {
    local name=$1 size=$2; shift 2
    rm -f "$name"
    qemu-img create -q -f qed "$@" "$name" "$size"
}

# qio NAME 'cmd' 'cmd' ...   (each argument is one qemu-io -c command)
qio() {
    local name=$1; shift
    local args=()
    for c in "$@"; do args+=(-c "$c"); done
    qemu-io -f qed "${args[@]}" "$name" >/dev/null
}

# poke FILE OFFSET u32|u64 VALUE   (little-endian in-place edit)
poke() {
    python3 - "$@" <<'PY'
import struct, sys
path, off, kind, val = sys.argv[1], int(sys.argv[2], 0), sys.argv[3], int(sys.argv[4], 0)
fmt = {"u32": "<I", "u64": "<Q"}[kind]
with open(path, "r+b") as f:
    f.seek(off)
    f.write(struct.pack(fmt, val))
PY
}

# peek FILE OFFSET u32|u64  -> prints the value in hex
peek() {
    python3 - "$@" <<'PY'
import struct, sys
path, off, kind = sys.argv[1], int(sys.argv[2], 0), sys.argv[3]
fmt = {"u32": "<I", "u64": "<Q"}[kind]
with open(path, "rb") as f:
    f.seek(off)
    print(hex(struct.unpack(fmt, f.read(struct.calcsize(fmt)))[0]))
PY
}

expect_eq() {  # expect_eq WHAT ACTUAL EXPECTED
    if [[ "$2" != "$3" ]]; then
        echo "layout assumption failed: $1: got $2, expected $3" >&2
        exit 1
    fi
}

rm -f ./*.qed ./*.raw expected.tsv expected-check.tsv expected-ranges.tsv qemu-reference.md

# ---------------------------------------------------------------------------------------------
# 1. plain images

create empty-1g.qed 1G
create size0.qed 0

create odd-size.qed 1234                      # rounded up to 1536
qio odd-size.qed 'write -P 0x6f 0 1536' 'write -P 0x70 512 100' 'write -P 0x71 1535 1'

# 4 KiB clusters, table_size 2: one L2 table maps 4 MiB, max size 4 GiB
create c4k-t2.qed 16M -o cluster_size=4096,table_size=2
qio c4k-t2.qed \
    'write -P 0x11 0 4k' \
    'write -P 0x5a 4095 3' \
    'write -P 0x22 4188160 12k' \
    'write -P 0x23 8387608 9000' \
    'write -z 64k 16k' \
    'write -z 102500 5000' \
    'write -z 0 4k' \
    'write -P 0x44 69632 100' \
    'write -z 12M 4M' \
    'write -P 0x66 16776704 512'

# defaults (64 KiB clusters, table_size 4)
create c64k-t4.qed 1G
qio c64k-t4.qed \
    'write -P 0xa1 0 4k' \
    'write -P 0xb2 204807 10000' \
    'write -P 0xc3 1048476 200' \
    'write -z 2M 128k' \
    'write -z 4k 4k'

# 4 TiB sparse image: 16 KiB clusters, table_size 8 -> max size is exactly 4 TiB.
# One L2 table maps 256 MiB; the write at 2T-2k crosses an L2 boundary.
create sparse-4t.qed 4T -o cluster_size=16384,table_size=8
qio sparse-4t.qed \
    'write -P 0x01 512 512' \
    'write -P 0x02 2199023253504 4k' \
    'write -P 0x03 4398046507008 4k'

# ---------------------------------------------------------------------------------------------
# 2. backing files

# 1 MiB raw base; every byte differs from its neighbours' sector: byte i = (i + 3*(i>>9)) & 0xff
python3 - <<'PY'
with open("base-short.raw", "wb") as f:
    f.write(bytes(((i + 3 * (i >> 9)) & 0xff) for i in range(1 << 20)))
PY

create over-raw.qed 4M -b base-short.raw -F raw
qio over-raw.qed \
    'write -P 0xaa 4k 4k' \
    'write -P 0xab 1046528 4k' \
    'write -P 0xbb 2098176 1k'

# 3-deep QED chain with three different cluster sizes
create chain-base.qed 8M -o cluster_size=4096,table_size=4
qio chain-base.qed \
    'write -P 0xb0 0 256k' \
    'write -P 0xb1 1M 128k' \
    'write -z 2M 64k' \
    'write -P 0xb2 3M 64k'
create chain-mid.qed 8M -b chain-base.qed -F qed -o cluster_size=8192,table_size=2
qio chain-mid.qed \
    'write -P 0xc0 64k 64k' \
    'write -z 128k 8k' \
    'write -P 0xc1 1048676 1000' \
    'write -P 0xc2 5M 8k'
create chain-top.qed 8M -b chain-mid.qed -F qed
qio chain-top.qed \
    'write -P 0xd0 100k 4k' \
    'write -P 0xd1 1114102 20' \
    'write -z 3M 64k'

# ---------------------------------------------------------------------------------------------
# 3. dirty image: qemu-io aborts (SIGABRT) after the write, so NEED_CHECK stays set.
# Run in $TMP with core dumps disabled so that no core file lands anywhere near the repo.
create dirty.qed 1G
(
    cd "$TMP"
    set +e
    # the inner bash reaps the aborted qemu-io, so its "Aborted" notice goes to /dev/null
    bash -c 'ulimit -c 0; qemu-io -f qed -c "write -P 0x11 4k 4k" -c abort "$1"; exit $?' _ "$DIR/dirty.qed" >/dev/null 2>&1
    rc=$?
    set -e
    [[ $rc -ne 0 ]] || { echo "qemu-io abort unexpectedly exited 0" >&2; exit 1; }
)
expect_eq "dirty.qed features" "$(peek dirty.qed 16 u64)" 0x2

# ---------------------------------------------------------------------------------------------
# 4. corrupt images: all derived from one small 4 KiB-cluster image.
# Layout of cbase (asserted below): header 0x0, L1 at 0x1000 (4 clusters),
#   data 0x5000,0x6000 (guest 0..8k), L2#0 at 0x7000 (4 clusters), data 0xb000 (guest 1M),
#   data 0xc000 (guest 8M), L2#1 at 0xd000; file size 0x11000.
CB="$TMP/cbase.qed"
rm -f "$CB"
qemu-img create -q -f qed -o cluster_size=4096,table_size=4 "$CB" 16M
qemu-io -f qed -c 'write -P 0xab 0 8k' -c 'write -P 0xcd 1M 4k' -c 'write -P 0xef 8M 4k' "$CB" >/dev/null
L1=0x1000; L2=0x7000
expect_eq "cbase L1[0]"  "$(peek "$CB" $((L1 + 0)) u64)" 0x7000
expect_eq "cbase L1[1]"  "$(peek "$CB" $((L1 + 8)) u64)" 0xd000
expect_eq "cbase L2[0]"  "$(peek "$CB" $((L2 + 0)) u64)" 0x5000
expect_eq "cbase L2[1]"  "$(peek "$CB" $((L2 + 8)) u64)" 0x6000
expect_eq "cbase L2[256]" "$(peek "$CB" $((L2 + 256 * 8)) u64)" 0xb000
expect_eq "cbase size"   "$(stat -c %s "$CB")" $((0x11000))

cp "$CB" corrupt-l2-past-eof.qed;  poke corrupt-l2-past-eof.qed  $((L2 + 8))  u64 0x10000000
cp "$CB" corrupt-l2-unaligned.qed; poke corrupt-l2-unaligned.qed $((L2 + 8))  u64 0x6200
cp "$CB" corrupt-l2-dup.qed;       poke corrupt-l2-dup.qed       $((L2 + 16)) u64 0x5000
cp "$CB" corrupt-l2-into-l1.qed;   poke corrupt-l2-into-l1.qed   $((L2 + 16)) u64 0x1000
# L1[2] -> 0x10000: the table starts inside the file but its last 3 clusters lie past EOF
cp "$CB" corrupt-l1-past-eof.qed;  poke corrupt-l1-past-eof.qed  $((L1 + 16)) u64 0x10000
cp "$CB" corrupt-l1-one.qed;       poke corrupt-l1-one.qed       $((L1 + 16)) u64 0x1
cp "$CB" leak.qed;                 head -c 4096 /dev/zero >> leak.qed

# header fuzz (as in QEMU iotest 116, plus an unknown feature bit)
head -c 512 "$CB" > bad-truncated.qed
cp "$CB" bad-magic.qed;        poke bad-magic.qed        0  u32 0x12345678
cp "$CB" bad-cluster-size.qed; poke bad-cluster-size.qed 4  u32 0xffffffff
cp "$CB" bad-table-size.qed;   poke bad-table-size.qed   8  u32 0xffffffff
cp "$CB" bad-header-size.qed;  poke bad-header-size.qed  12 u32 0xffffffff
cp "$CB" bad-l1-offset.qed;    poke bad-l1-offset.qed    40 u64 0xffffffffffffffff
cp "$CB" bad-image-size.qed;   poke bad-image-size.qed   48 u64 0xffffffffffffffff
cp "$CB" bad-feature.qed;      poke bad-feature.qed      16 u64 0x8

# spec-valid header variants
cp "$CB" compat-unknown.qed;    poke compat-unknown.qed    24 u64 0x100   # must open, bit ignored
cp "$CB" autoclear-unknown.qed; poke autoclear-unknown.qed 32 u64 0x100   # must open; rw open clears it
create ts1.qed 1G -o table_size=1   # valid per spec; QEMU cannot open it (overflow test bug)

# ---------------------------------------------------------------------------------------------
# 5. expectations

READABLE=(empty-1g size0 odd-size c4k-t2 c64k-t4 sparse-4t over-raw chain-base chain-mid chain-top
          dirty leak corrupt-l2-dup compat-unknown autoclear-unknown)
# too large to hash as a whole (4 TiB); see expected-ranges.tsv
NOHASH=" sparse-4t "

{
    printf '# name\tvirtual_size\tsha256 of "qemu-img convert -O raw" (- = too large, see expected-ranges.tsv)\n'
    for n in "${READABLE[@]}"; do
        vs=$(qemu-img info --output=json "$n.qed" | python3 -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])')
        if [[ "$NOHASH" == *" $n "* ]]; then
            sum=-
        else
            rm -f "$TMP/out.raw"
            qemu-img convert -O raw "$n.qed" "$TMP/out.raw"
            sum=$(sha256sum "$TMP/out.raw" | cut -d' ' -f1)
        fi
        printf '%s\t%s\t%s\n' "$n.qed" "$vs" "$sum"
    done
} > expected.tsv

# windows of the big sparse image: name, offset, length, sha256 of those guest bytes
{
    printf '# name\toffset\tlength\tsha256 of guest bytes [offset, offset+length)\n'
    T=1099511627776
    for w in "0 1048576" "$((2 * T - 1048576)) 2097152" "$((4 * T - 1048576)) 1048576" "$((3 * T)) 1048576"; do
        set -- $w
        rm -f "$TMP/win.raw"
        qemu-img convert -O raw \
            "json:{\"driver\":\"raw\",\"offset\":$1,\"size\":$2,\"file\":{\"driver\":\"qed\",\"file\":{\"driver\":\"file\",\"filename\":\"sparse-4t.qed\"}}}" \
            "$TMP/win.raw"
        printf 'sparse-4t.qed\t%s\t%s\t%s\n' "$1" "$2" "$(sha256sum "$TMP/win.raw" | cut -d' ' -f1)"
    done
} > expected-ranges.tsv

# qemu-img check -f qed on every image (read-only check, no repair). For images QEMU cannot open,
# corruptions/leaks are "-" and the last column has the first line of the error message.
{
    printf '# name\texit\tcorruptions\tleaks\terror (only when QEMU cannot open the image)\n'
    for f in *.qed; do
        set +e
        out=$(qemu-img check -f qed --output=json "$f" 2>"$TMP/err")
        rc=$?
        set -e
        if [[ -n "$out" ]] && c_l=$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("%d\t%d" % (d.get("corruptions",0), d.get("leaks",0)))' 2>/dev/null); then
            printf '%s\t%s\t%s\n' "$f" "$rc" "$c_l"
        else
            printf '%s\t%s\t-\t-\t%s\n' "$f" "$rc" "$(head -n1 "$TMP/err")"
        fi
    done
} > expected-check.tsv

# ---------------------------------------------------------------------------------------------
# 6. qemu-reference.md: verbatim qemu-img output formats (generated in $TMP with relative names)

REF="$DIR/qemu-reference.md"
(
    cd "$TMP"
    rm -f ref*.qed ref*.raw
    # ref.qed: 64 KiB clusters, 1 MiB; data in cluster 0, zero cluster 1, rest unallocated
    qemu-img create -q -f qed ref.qed 1M
    qemu-io -f qed -c 'write -P 0xab 0 64k' -c 'write -z 64k 64k' ref.qed >/dev/null
    # refbase.raw (256 KiB of 0x55) under ref-over-raw.qed; refbase.qed under ref-over-qed.qed
    python3 -c 'open("refbase.raw","wb").write(b"\x55" * 262144)'
    qemu-img create -q -f qed -b refbase.raw -F raw ref-over-raw.qed 1M
    qemu-io -f qed -c 'write -P 0xaa 128k 64k' -c 'write -z 192k 64k' ref-over-raw.qed >/dev/null
    qemu-img create -q -f qed refbase.qed 1M
    qemu-io -f qed -c 'write -P 0x55 0 256k' refbase.qed >/dev/null
    qemu-img create -q -f qed -b refbase.qed -F qed ref-over-qed.qed 1M
    qemu-io -f qed -c 'write -P 0xaa 128k 64k' -c 'write -z 192k 64k' ref-over-qed.qed >/dev/null
    # leak / corruption variants of ref.qed (L2 table of ref.qed is at 0x60000)
    cp ref.qed ref-leak.qed; head -c 65536 /dev/zero >> ref-leak.qed
    cp ref.qed ref-corrupt.qed
    python3 -c '
import struct
with open("ref-corrupt.qed","r+b") as f:
    f.seek(0x60000 + 2*8); f.write(struct.pack("<Q", 0x10000000))
'
    cp ref.qed ref-dirty.qed
    bash -c 'ulimit -c 0; qemu-io -f qed -c "write -P 0x11 512k 4k" -c abort ref-dirty.qed; exit $?' >/dev/null 2>&1 || true

    run() {  # run CMD... : print "$ CMD", then stdout+stderr and the exit code
        echo '```'
        echo "\$ $*"
        set +e
        "$@" 2>&1
        local rc=$?
        set -e
        echo "[exit $rc]"
        echo '```'
        echo
    }

    cat <<'EOF'
# qemu-img / qemu-io output formats (QEMU 7.2) for QED images

Generated by `make-images.sh` (section 6): it runs real commands and pastes their output verbatim.
"disk size" and "actual-size" are host-filesystem allocation and can differ between machines.

Setup (all in one scratch directory, relative names):

```
qemu-img create -f qed ref.qed 1M
qemu-io -c 'write -P 0xab 0 64k' -c 'write -z 64k 64k' ref.qed      # data, zero cluster, rest unallocated
printf '\x55' x 256 KiB > refbase.raw                                  # raw base, shorter than the overlay
qemu-img create -f qed -b refbase.raw -F raw ref-over-raw.qed 1M
qemu-io -c 'write -P 0xaa 128k 64k' -c 'write -z 192k 64k' ref-over-raw.qed
qemu-img create -f qed refbase.qed 1M; qemu-io -c 'write -P 0x55 0 256k' refbase.qed
qemu-img create -f qed -b refbase.qed -F qed ref-over-qed.qed 1M
qemu-io -c 'write -P 0xaa 128k 64k' -c 'write -z 192k 64k' ref-over-qed.qed
cp ref.qed ref-leak.qed; append 64 KiB of zeroes                       # one leaked cluster
cp ref.qed ref-corrupt.qed; L2[2] (at 0x60010) := 0x10000000           # entry past EOF
cp ref.qed ref-dirty.qed; qemu-io -c 'write -P 0x11 512k 4k' -c abort   # NEED_CHECK left set
```

## qemu-img info

EOF
    run qemu-img info --output=json ref.qed
    run qemu-img info ref.qed
    run qemu-img info --output=json ref-dirty.qed
    run qemu-img info ref-dirty.qed
    run qemu-img info --output=json ref-over-raw.qed
    run qemu-img info ref-over-raw.qed
    run qemu-img info --output=json --backing-chain ref-over-qed.qed
    run qemu-img info --backing-chain ref-over-qed.qed
    echo '## qemu-img check'
    echo
    run qemu-img check --output=json ref.qed
    run qemu-img check ref.qed
    run qemu-img check --output=json ref-leak.qed
    run qemu-img check ref-leak.qed
    run qemu-img check --output=json ref-corrupt.qed
    run qemu-img check ref-corrupt.qed
    run qemu-img check --output=json ref-dirty.qed
    run qemu-img check ref-dirty.qed
    run qemu-img check --output=json ref-over-raw.qed
    cp ref-corrupt.qed ref-repair.qed
    run qemu-img check -r all ref-repair.qed
    cp ref-corrupt.qed ref-repair2.qed
    run qemu-img check --output=json -r all ref-repair2.qed
    cp ref-leak.qed ref-leak2.qed
    run qemu-img check -r leaks ref-leak2.qed
    echo 'NEED_CHECK (features at offset 16) of ref-dirty.qed before and after a repairing check:'
    echo
    run xxd -s 16 -l 8 ref-dirty.qed
    cp ref-dirty.qed ref-dirty2.qed
    run qemu-img check -r leaks ref-dirty2.qed
    run xxd -s 16 -l 8 ref-dirty2.qed
    echo '## qemu-img map'
    echo
    run qemu-img map --output=json ref.qed
    run qemu-img map ref.qed
    run qemu-img map --output=json ref-over-raw.qed
    run qemu-img map ref-over-raw.qed
    run qemu-img map --output=json ref-over-qed.qed
    run qemu-img map ref-over-qed.qed
    echo 'The 3-deep fixture chain (chain-top <- chain-mid <- chain-base):'
    echo
    cp "$DIR/chain-base.qed" "$DIR/chain-mid.qed" "$DIR/chain-top.qed" .
    run qemu-img map --output=json chain-top.qed
    run qemu-img map chain-top.qed
    echo '## Errors for unopenable images'
    echo
    cp "$DIR/bad-magic.qed" "$DIR/bad-feature.qed" "$DIR/ts1.qed" "$DIR/bad-image-size.qed" .
    run qemu-img info bad-magic.qed
    run qemu-img info -f qed bad-magic.qed
    run qemu-img info bad-feature.qed
    run qemu-img info ts1.qed
    run qemu-img check bad-image-size.qed
    cat <<'EOF'
## Observations (QEMU 7.2)

* `info --output=json` keys for QED: `virtual-size`, `filename`, `cluster-size`, `format`, `actual-size`,
  `dirty-flag`; with a backing file also `backing-filename`, `full-backing-filename` and (only when the
  format is recorded, i.e. raw/NO_PROBE) `backing-filename-format`. There is no `format-specific` block.
  `--backing-chain` turns the object into an array, top first.
* `dirty-flag` is **false** even when NEED_CHECK is set on disk (ref-dirty.qed has features=0x2).
* Human `info`: `image`, `file format`, `virtual size: <human> (<bytes> bytes)`, `disk size`, `cluster_size`,
  then `backing file` / `backing file format` when present.
* `check --output=json` keys: `total-clusters`, `check-errors`, `allocated-clusters`, `filename`, `format`,
  plus `corruptions`, `leaks`, `fragmented-clusters`, `corruptions-fixed`, `leaks-fixed` **only when
  non-zero**. No `image-end-offset` for QED. Exit codes: 0 clean, 2 corruptions, 3 leaks only, 1 open failure.
* `check -r` fixes invalid entries but never leaks; with `-r` the printed result is the re-check after repair.
* `map --output=json`: one object per extent with `start`, `length`, `depth`, `present`, `zero`, `data`, and
  `offset` only when `data` is true. Adjacent extents with the same attributes (and contiguous offsets)
  are merged. Allocated: present/data/offset (depth 0). Zero cluster (L2 entry 1): present=true, zero=true,
  data=false, depth 0. Unallocated with no backing: present=false, zero=true, depth 0. Backing data:
  `depth` = chain level it came from, `offset` = offset in that file (raw base: guest offset). Unallocated
  everywhere with a QED base: present=false, depth = deepest level. Past the end of a shorter raw base:
  present=false, zero=true, depth 0.
* Human `map` lists only extents with data (`Offset  Length  Mapped to  File`, hex), file name of the
  level that holds them; zero and unallocated extents are omitted.
EOF
) > "$REF"

echo "done: $(ls -1 ./*.qed | wc -l) images in $DIR"
