#!/usr/bin/env python3
"""Two or more builds of the `instructions` bench taking turns, for a time per step that a
shared machine's slow phases affect alike: each round runs every binary once (the order
reversed every other round), and each build is reported by its median time per step and
by the median, over rounds, of its time divided by the first build's in the same round.

    cargo bench -p tapegrad-benches --bench instructions --no-run   # in each checkout
    python3 benches/alternate.py OLD_BINARY NEW_BINARY --workload W3 --steps 50000 --rounds 61

The binaries are the `instructions-*` executables that command prints (copy them aside
between checkouts). One thread (TAPEGRAD_NUM_THREADS=1) unless `--threads` says otherwise. A build that prints its time per
step (from 2026-12-01) is taken at its word; an older one is timed from outside, its
process's start included.
"""
import argparse
import os
import statistics
import subprocess
import time

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("binaries", nargs="+")
parser.add_argument("--workload", default="W3")
parser.add_argument("--steps", type=int, default=50_000)
parser.add_argument("--rounds", type=int, default=61)
parser.add_argument("--threads", type=int, default=1, help="TAPEGRAD_NUM_THREADS (default 1)")
parser.add_argument("--outside", action="store_true",
                    help="time every build from outside (as an older build must be)")
args = parser.parse_args()

env = dict(os.environ, TAPEGRAD_NUM_THREADS=str(args.threads))
times = {b: [] for b in args.binaries}
for r in range(args.rounds):
    order = args.binaries if r % 2 == 0 else args.binaries[::-1]
    for b in order:
        start = time.perf_counter()
        run = subprocess.run([b, args.workload, str(args.steps)], env=env, check=True,
                             capture_output=True, text=True)
        outside = (time.perf_counter() - start) / args.steps * 1e6
        words = run.stdout.split()
        own = words[1:3] == ["us", "per"] and not args.outside
        times[b].append(float(words[0]) if own else outside)

first = times[args.binaries[0]]
print(f"{args.workload}, {args.rounds} rounds of {args.steps} steps, µs per step")
print("| build | median | min | time / first build's, median of rounds (quartiles) |")
print("|---|---:|---:|---:|")
for b in args.binaries:
    ratios = [t / f for t, f in zip(times[b], first)]
    q = statistics.quantiles(ratios, n=4)
    print(
        f"| {b} | {statistics.median(times[b]):.3f} | {min(times[b]):.3f} | "
        f"{statistics.median(ratios):.3f} ({q[0]:.3f}-{q[2]:.3f}) |"
    )
