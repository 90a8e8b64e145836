"""Shared timing and reporting for the anchor benchmarks.

Each measurement runs the *whole* training loop `reps` times (after one warm-up loop,
which also absorbs JIT/graph compilation) and reports the median time per step.
One JSON object per line goes to stdout; compare.py collects them and prints them beside
tapegrad's figures (from the same workloads in benches/*.rs).
"""
import json, os, statistics, time

REPS = int(os.environ.get("BENCH_REPS", "7"))
N, DIN, DOUT, LR = 64, 4, 2, 1e-6          # the lecture's problem
ADAM_LR = 1e-4                             # Adam/AdamW runs (timing does not depend on it)


def bench(loop, steps, reps=REPS):
    """loop(steps) runs `steps` training steps; returns (median, min, max) microseconds per step."""
    loop(steps)                            # warm-up: JIT, allocator, caches
    per_step = []
    for _ in range(reps):
        t0 = time.perf_counter()
        loop(steps)
        per_step.append((time.perf_counter() - t0) / steps * 1e6)
    return statistics.median(per_step), min(per_step), max(per_step)


def report(w, system, variant, threads, steps, stats, **extra):
    med, lo, hi = stats
    row = dict(w=w, sys=system, var=variant, thr=threads, steps=steps, reps=REPS,
               us=round(med, 3), us_min=round(lo, 3), us_max=round(hi, 3), **extra)
    print(json.dumps(row), flush=True)


def per_call(f, warmup=10, calls=50, min_seconds=0.0):
    """(median, min, max) microseconds of single calls of f, after `warmup` calls; at least
    `calls` calls and at least `min_seconds` of them."""
    for _ in range(warmup):
        f()
    times = []
    deadline = time.perf_counter() + min_seconds
    while len(times) < calls or time.perf_counter() < deadline:
        t0 = time.perf_counter()
        f()
        times.append((time.perf_counter() - t0) * 1e6)
    return statistics.median(times), min(times), max(times)
