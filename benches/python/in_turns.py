"""W1 (the NumPy slide's manual step) against NumPy, in turns: one NumPy burst, then one
tapegrad burst (the `instructions` bench binary, which prints its time per step), and so
on, so both sides see the machine in the same state. On a shared machine whose speed
swings by 1.5x from one minute to the next, a ratio of two measurements taken minutes
apart (compare.py) moves with the swing; the median of the per-turn ratios does not.

    python benches/python/in_turns.py            # 15 turns of about 0.3 s a side
    python benches/python/in_turns.py --turns 31

Prints each turn's figures, then the medians and the median ratio, NumPy / tapegrad.
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
    ap.add_argument("--turns", type=int, default=15)
    ap.add_argument("--seconds", type=float, default=0.3, help="length of one side's burst")
    args = ap.parse_args()
    binary = instructions_binary()
    env = dict(os.environ, TAPEGRAD_NUM_THREADS="1")
    numpy_loop = w1_numpy(np.float32)
    numpy_loop(20000)                                   # warm-up
    steps_np = max(1000, int(args.seconds / 8e-6))      # NumPy: some 5-15 us a step
    steps_tg = max(1000, int(args.seconds / 1e-6))      # tapegrad: about 1 us
    rows = []
    for turn in range(args.turns):
        t0 = time.perf_counter()
        numpy_loop(steps_np)
        us_np = (time.perf_counter() - t0) / steps_np * 1e6
        run = subprocess.run([binary, "W1", str(steps_tg)], env=env, check=True,
                             capture_output=True, text=True)
        us_tg = float(run.stdout.split()[0])
        rows.append((us_np, us_tg, us_np / us_tg))
        print(f"turn {turn + 1:2}: numpy {us_np:6.2f} us, tapegrad {us_tg:6.3f} us, "
              f"ratio {us_np / us_tg:5.2f}x", flush=True)
    med = [statistics.median(r[i] for r in rows) for i in range(3)]
    print(f"W1, one thread, {args.turns} turns ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}): "
          f"numpy {med[0]:.2f} us, tapegrad {med[1]:.3f} us (medians); "
          f"median ratio {med[2]:.2f}x (turns from {min(r[2] for r in rows):.2f} "
          f"to {max(r[2] for r in rows):.2f})")


if __name__ == "__main__":
    main()
