#!/usr/bin/env bash
# The engine's microbenchmarks (bench/jmh, JMH): time and bytes allocated per request on the paths a mount
# serves most. Usage: bench/jmh-bench.sh [JMH options, e.g. a benchmark name pattern or -f 2]
# Writes bench/JMH-RESULTS.md. Not a test: nothing here passes or fails on timing.
set -euo pipefail
cd "$(dirname "$0")/.."
JAR=bench/jmh/target/benchmarks.jar
${MVN:-mvn -B -q} -Pjmh package -DskipTests -pl bench/jmh -am
CSV=$(mktemp "${TMPDIR:-/tmp}/qedfs-jmh.XXXXXX.csv")
trap 'rm -f "$CSV"' EXIT
java -jar "$JAR" -prof gc -rf csv -rff "$CSV" "$@"

python3 - "$CSV" "$*" <<'PY' > bench/JMH-RESULTS.md
import csv, os, platform, subprocess, sys
rows = list(csv.DictReader(open(sys.argv[1])))
def params(r):
    return ", ".join(f"{k[7:]}={v}" for k, v in r.items() if k.startswith("Param: ") and v)
alloc = {(r["Benchmark"].split(":")[0], params(r)): r for r in rows if r["Benchmark"].endswith(":gc.alloc.rate.norm")}
java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
commit = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True).stdout.strip()
print("# qedfs engine microbenchmarks (JMH)\n")
print(f"- machine: {os.cpu_count()} cores, kernel {platform.release()}; {java}; qedfs at {commit or '?'}")
print(f"- command: `bench/jmh-bench.sh {sys.argv[2]}`".rstrip() + " (JMH with -prof gc; images on tmpfs unless QEDFS_JMH_DIR says otherwise)\n")
print("Time per operation (mean, with JMH's 99.9 % interval) and bytes allocated per operation")
print("(gc.alloc.rate.norm). The benchmarks' own javadoc says what each one does.\n")
print("| benchmark | parameters | threads | time per op | ± | unit | bytes allocated per op |")
print("|---|---|---:|---:|---:|---|---:|")
for r in rows:
    name = r["Benchmark"]
    if ":" in name:
        continue
    a = alloc.get((name, params(r)))
    b = f'{float(a["Score"]):.0f}' if a else "?"
    print(f'| {name.split(".")[-2]}.{name.split(".")[-1]} | {params(r)} | {r["Threads"]} | {float(r["Score"]):.1f} | '
          f'{float(r["Score Error (99.9%)"] or 0):.1f} | {r["Unit"]} | {b} |')
PY
cat bench/JMH-RESULTS.md
