"""A tapegrad step against its peer's, in turns: one burst of the peer's steps, then one
of tapegrad's (the `instructions` bench binary, which prints its time per step), and so
on, so both sides see the machine in the same state. On a shared machine whose speed
swings by 1.5x from one minute to the next, a ratio of two measurements taken minutes
apart (compare.py) moves with the swing; the median of the per-turn ratios does not.

- W1, the NumPy slide's manual step, against NumPy's, on one thread.
- S2, the 784-256-10 MLP step with Adam, against JAX's jitted step, on two threads
  (issue 13's targets; JAX uses the machine's cores).

    python benches/python/in_turns.py                    # W1, 15 turns of about 0.3 s a side
    python benches/python/in_turns.py --turns 31
    python benches/python/in_turns.py --workload S2      # S2, 15 turns of about 0.5 s a side

Prints each turn's figures, then the medians and the median ratio, peer / tapegrad.
"""
import argparse, json, os, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import numpy as np  # noqa: E402  (after the path, like the other scripts)
from lecture_numpy_torch import w1_numpy  # noqa: E402


def instructions_binary():
    """Builds `benches/instructions.rs` (release) and returns its executable."""
    out = subprocess.run(
        ["cargo", "bench", "-p", "tapegrad-benches", "--bench", "instructions", "--no-run",
         "--message-format=json"],
        cwd=ROOT, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        m = json.loads(line)
        if (m.get("reason") == "compiler-artifact" and m["target"]["name"] == "instructions"
                and m.get("executable")):
            return m["executable"]
    sys.exit("in_turns.py: no instructions binary in cargo's output")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workload", choices=["W1", "S2"], default="W1")
    ap.add_argument("--turns", type=int, default=15)
    ap.add_argument("--seconds", type=float, help="length of one side's burst "
                    "(default 0.3 for W1, 0.5 for S2)")
    args = ap.parse_args()
    binary = instructions_binary()
    if args.workload == "W1":
        peer, threads, seconds = "numpy", 1, args.seconds or 0.3
        peer_loop = w1_numpy(np.float32)
        peer_us, tapegrad_us = 8.0, 1.0                 # about a step, to size the bursts
    else:
        from s2_mlp import jax_mlp
        peer, threads, seconds = "jax", 2, args.seconds or 0.5
        peer_loop = jax_mlp()
        peer_us, tapegrad_us = 1400.0, 1100.0
    env = dict(os.environ, TAPEGRAD_NUM_THREADS=str(threads))
    peer_loop(int(0.5 / peer_us * 1e6))                 # warm-up (and JAX's compilation)
    steps_peer = max(20, int(seconds / peer_us * 1e6))
    steps_tg = max(20, int(seconds / tapegrad_us * 1e6))
    rows = []
    for turn in range(args.turns):
        t0 = time.perf_counter()
        peer_loop(steps_peer)
        us_peer = (time.perf_counter() - t0) / steps_peer * 1e6
        run = subprocess.run([binary, args.workload, str(steps_tg)], env=env, check=True,
                             capture_output=True, text=True)
        us_tg = float(run.stdout.split()[0])
        rows.append((us_peer, us_tg, us_peer / us_tg))
        print(f"turn {turn + 1:2}: {peer} {us_peer:8.2f} us, tapegrad {us_tg:8.3f} us, "
              f"ratio {us_peer / us_tg:5.2f}x", flush=True)
    med = [statistics.median(r[i] for r in rows) for i in range(3)]
    print(f"{args.workload}, {threads} thread(s), {args.turns} turns "
          f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}): "
          f"{peer} {med[0]:.2f} us, tapegrad {med[1]:.3f} us (medians); "
          f"median ratio {med[2]:.2f}x (turns from {min(r[2] for r in rows):.2f} "
          f"to {max(r[2] for r in rows):.2f})")


if __name__ == "__main__":
    main()
