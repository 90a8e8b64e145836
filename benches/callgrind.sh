#!/usr/bin/env bash
# Instructions per training step of each lecture workload, counted by callgrind: the same
# figure on a loaded or an idle machine. Each workload runs twice, for 200 and 1200 steps;
# the difference divided by 1000 is one step, with set-up and warm-up cancelled out.
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
  TAPEGRAD_NUM_THREADS=1 valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$bin" "$1" "$2" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
printf '%-6s %12s\n' workload 'instr/step'
for w in "${workloads[@]}"; do
  short=$(count "$w" 200)
  long=$(count "$w" 1200)
  printf '%-6s %12.0f\n' "$w" "$(python3 -c "print(($long - $short) / 1000)")"
done
