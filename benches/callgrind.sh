#!/usr/bin/env bash
# Instructions per training step of each lecture workload, counted by callgrind: the same
# figure on a loaded or an idle machine. Each workload runs twice, for 200 and 1200 steps;
# the difference divided by 1000 is one step, with set-up and warm-up cancelled out.
# Beside it, the locked instructions per step (`lock`-prefixed and `xchg`: atomic
# read-modify-writes, some twenty cycles each, which callgrind counts as one), and the
# step's hot code: the 64-byte lines of machine code (the binary's and libc's) that run
# at least once per step, in KB, against the 32 KB level-1 instruction cache of the CPUs
# we measure on (`cargo bench --bench interleaved` measures what a cold cache costs a
# step; BENCHMARKS.md, "Speed II, ninth part").
#
#   bash benches/callgrind.sh            # W1 W3 W4 W5 W6 W6in
#   bash benches/callgrind.sh W3 W4      # some of them
#
# Needs valgrind (Debian: apt-get install valgrind). One thread, so counts do not depend
# on how the work is split.
set -euo pipefail
cd "$(dirname "$0")/.."
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(W1 W3 W4 W5 W6 W6in)
bin=$(cargo bench -p tapegrad-benches --bench instructions --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "instructions" and m.get("executable"):
        print(m["executable"])')
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
count() {
  TAPEGRAD_NUM_THREADS=1 valgrind --tool=callgrind --dump-instr=yes --callgrind-out-file="$out/cg" \
    "$bin" "$1" "$2" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
# Executions of locked instructions in the last profile: their addresses from objdump,
# their counts from the profile's per-instruction lines (relative addresses, `calls=`
# lines followed by the call's cost, which is skipped). Only lines of the binary itself
# count: a shared library's addresses (libc's memcpy) are offsets in that library and
# may equal the address of a locked instruction in the binary.
locked() {
  python3 - "$bin" "$out/cg" "$1" <<'PY'
import os, re, subprocess, sys
binary, profile, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
listing = subprocess.run(["objdump", "-d", "--no-show-raw-insn", binary],
                         capture_output=True, text=True, check=True).stdout
# `xchg` locks only with a memory operand (one with parentheses); between registers it is
# an ordinary move.
locked = {int(m.group(1), 16) for m in re.finditer(r"^\s+([0-9a-f]+):\s+(?:lock\b.*|xchg\s.*\(.*)$", listing, re.M)}
total, addr, skip, cost = 0, 0, False, 1
objects, inside, current = {}, False, ""
hot = set()  # (object, 64-byte line) run at least `steps` times
for line in open(profile):
    if line.startswith("positions:"):
        cost = len(line.split()) - 1  # the Ir column follows the position columns
        continue
    named = re.match(r"(c?ob)=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
    if named:
        kind, number, name = named.groups()
        if name:
            objects[number] = name
        if kind == "ob":
            current = os.path.realpath(objects.get(number, ""))
            inside = current == os.path.realpath(binary)
        continue
    if line.startswith("calls="):
        skip = True
        continue
    if not line or line[0] not in "0123456789+-*":
        continue
    fields = line.split()
    a = fields[0]
    if a.startswith("0x"):
        addr = int(a, 16)
    elif a[0] in "+-":
        step = int(a[1:], 16) if a[1:].startswith("0x") else int(a[1:])
        addr += step if a[0] == "+" else -step
    if skip:
        skip = False
        continue
    if len(fields) > cost and int(fields[cost]) >= steps:
        hot.add((current, addr >> 6))
    if inside and addr in locked and len(fields) > cost:
        total += int(fields[cost])
print(total, len(hot) * 64 / 1024)
PY
}
printf '%-6s %12s %12s %14s\n' workload 'instr/step' 'locked/step' 'hot code KB'
for w in "${workloads[@]}"; do
  short=$(count "$w" 200)
  read -r short_locked _ <<<"$(locked 200)"
  long=$(count "$w" 1200)
  read -r long_locked hot_kb <<<"$(locked 1200)"
  printf '%-6s %12.0f %12.1f %14.1f\n' "$w" "$(python3 -c "print(($long - $short) / 1000)")" \
    "$(python3 -c "print(($long_locked - $short_locked) / 1000)")" "$hot_kb"
done
