"""One command for every comparison in BENCHMARKS.md: runs the peers (NumPy, PyTorch, and
JAX, TensorFlow and candle where present) and tapegrad's criterion benchmarks on the same
workloads, one after the other on this machine, and prints one table of medians and ratios.

    pip install -r benches/python/requirements.txt      # once (a venv is best)
    python benches/python/compare.py                    # everything, 1 and 2 threads
    python benches/python/compare.py --groups lecture --threads 1
    python benches/python/compare.py --candle           # also build and run benches/candle

The table goes to stdout and to target/benchmarks/compare.md. "ratio" is the peer's median
over tapegrad's: above 1, tapegrad is faster. The machines here are shared and noisy, so
run it twice and read ratios, not single times.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# Each group: the peers' scripts (argument lists; "{t}" is the thread count), whether the
# thread count matters, the tapegrad bench and its criterion filter, and the table rows:
# (workload, peer system, peer workload id, text in the peer's variant or None,
#  tapegrad's criterion id).
GROUPS = {
    "lecture": dict(
        scripts=[["lecture_numpy_torch.py"], ["lecture_jax.py"], ["lecture_tf.py"]],
        threaded=False,
        bench="lecture",
        filter="lecture/",
        rows=[
            ("W1 manual step (NumPy slide)", "numpy", "W1", "f32",
             "lecture/W1 manual step (64x4, numpy slide)"),
            ("W2 manual step, torch tensors", "torch", "W2", None,
             "lecture/W1 manual step (64x4, numpy slide)"),
            ("W2 manual step, candle", "candle", "W2", None,
             "lecture/W1 manual step (64x4, numpy slide)"),
            ("W3 autograd step", "torch", "W3", None, "lecture/W3 autograd step"),
            ("W3 autograd step, candle", "candle", "W3", None, "lecture/W3 autograd step"),
            ("W3 autograd step, JAX jit", "jax", "W7", "jit step", "lecture/W3 autograd step"),
            ("W4 Sequential + Adam", "torch", "W4", None,
             "lecture/W4 Sequential(Linear) + mse_loss + Adam step"),
            ("W4 Sequential + Adam, candle", "candle", "W4", None,
             "lecture/W4 Sequential(Linear) + mse_loss + Adam step"),
            ("W5 own Module + Adam", "torch", "W5", None,
             "lecture/W5 own Module + mse_loss + Adam step"),
            ("W6 graph step, feed dict (TF1)", "tensorflow", "W6", "TF1",
             "lecture/W6 graph step, feed dict + update outside"),
            ("W6 graph step, in-graph update (tf.function)", "tensorflow", "W6", "TF2",
             "lecture/W6 graph step, variable + assign"),
        ],
    ),
    "mlp": dict(
        scripts=[["s2_mlp.py", "torch", "{t}"], ["s2_mlp.py", "jax", "{t}"]],
        threaded=True,
        bench="mlp",
        filter=None,
        rows=[
            ("S2 MLP step, Adam", "torch", "S2 MLP", None,
             "mlp/S2 784-256-10 ReLU MLP step, batch 128, MSE, Adam"),
            ("S2 MLP step, JAX jit", "jax", "S2 MLP", None,
             "mlp/S2 784-256-10 ReLU MLP step, batch 128, MSE, Adam"),
        ],
    ),
    "cnn": dict(
        scripts=[["cnn.py", "{t}"]],
        threaded=True,
        bench="cnn",
        filter="cnn/(S3|conv)",
        rows=[
            ("S3 LeNet-5 step", "torch", "S3 LeNet-5 step, batch 64, cross-entropy, Adam", None,
             "cnn/S3 LeNet-5 step, batch 64, cross-entropy, Adam"),
        ] + [
            (f"{conv} {what}", "torch", f"{conv} {what}", None, f"cnn/{conv} {what}")
            for conv in ["conv1 [64,1,28,28] * [6,1,5,5]", "conv2 [64,6,12,12] * [16,6,5,5]"]
            for what in ["forward", "forward + backward"]
        ],
    ),
    "higher_order": dict(
        scripts=[["higher_order.py", "{t}"]],
        threaded=True,
        bench="higher_order",
        filter=None,
        rows=[
            ("S2 gradient", "torch", "gradient", None,
             "higher_order/S2 gradient (forward + backward)"),
            ("S2 hvp", "torch", "hvp", None, "higher_order/S2 hvp"),
        ],
    ),
    "ops": dict(
        scripts=[["model_ops.py"]],
        threaded=False,
        bench="kernels",
        filter="model_ops_f32",
        rows=[
            (name, "torch", name, None, f"model_ops_f32/{name}")
            for name in ["cat 4 x [250, 1000]", "index_select dim 0", "gather dim 1",
                         "where_cond", "clamp", "sort last dim", "cumsum last dim"]
        ],
    ),
    "kernels": dict(
        scripts=[["kernels.py", "{t}"]],
        threaded=True,
        bench="kernels",
        filter="speed2_f32",
        rows=[
            (name, "torch", name, None, f"speed2_f32/{name}")
            for name in [f"{op} {n}" for n in ["1e6", "1e7"]
                         for op in ["exp", "log", "tanh", "sigmoid", "gelu", "mul_scalar"]]
            + ["max_dim 1 [1000, 1000]", "add 1e6", "add transposed 1e6",
               "contiguous of transposed 1e6",
               "softmax + cross_entropy fwd+bwd [1024, 1000]"]
        ],
    ),
    "matmul": dict(
        scripts=[["s1_matmul.py", "numpy", "{t}"], ["s1_matmul.py", "torch", "{t}"]],
        threaded=True,
        bench="kernels",
        filter="matmul_f32/square",
        rows=[
            (f"S1 SGEMM {n}x{n}", peer, f"S1 n={n}", None, f"matmul_f32/square/{n}")
            for n in [128, 256, 512, 1024]
            for peer in ["numpy", "torch"]
        ],
    ),
}


def peers(script, threads):
    """Runs one peer script; its JSON lines, or [] (with a note) if its library is absent."""
    args = [a.replace("{t}", str(threads)) for a in script]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", OMP_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    # OpenBLAS's AVX-512 kernel needs these unset (they are set on some machines).
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    run = subprocess.run([sys.executable, os.path.join(HERE, args[0]), *args[1:]],
                         capture_output=True, text=True, env=env, cwd=HERE)
    rows = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    if run.returncode != 0 and not rows:
        last = (run.stderr.strip().splitlines() or ["failed"])[-1]
        print(f"  skipped {' '.join(args)}: {last}", file=sys.stderr)
    return rows


def candle(threads):
    """candle's W2-W4 (benches/candle, built on first use: a few minutes)."""
    manifest = os.path.join(ROOT, "benches", "candle", "Cargo.toml")
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    run = subprocess.run(["cargo", "run", "--quiet", "--release", "--manifest-path", manifest],
                         capture_output=True, text=True, env=env)
    if run.returncode != 0:
        print(f"  skipped candle: {run.stderr.strip()[-300:]}", file=sys.stderr)
    return [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]


def target_dir():
    return os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))


def tapegrad(bench, filter_, threads, quick):
    """Runs one criterion bench of tapegrad-benches; criterion id -> median µs."""
    started = time.time()
    cmd = ["cargo", "bench", "--quiet", "-p", "tapegrad-benches", "--bench", bench, "--"]
    if quick:
        cmd += ["--warm-up-time", "0.5", "--measurement-time", "2"]
    if filter_:
        cmd.append(filter_)
    env = dict(os.environ, TAPEGRAD_NUM_THREADS=str(threads))
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    medians = {}
    pattern = os.path.join(target_dir(), "criterion", "**", "new", "benchmark.json")
    for path in glob.glob(pattern, recursive=True):
        if os.path.getmtime(path) < started:
            continue  # an older run's result
        with open(path) as f:
            full_id = json.load(f)["full_id"]
        with open(os.path.join(os.path.dirname(path), "estimates.json")) as f:
            medians[full_id] = json.load(f)["median"]["point_estimate"] / 1e3
    return medians


def pick(rows, system, workload, variant):
    for r in rows:
        if r["sys"] == system and r["w"] == workload and (variant is None or variant in r["var"]):
            return r["us"]
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--groups", default=",".join(GROUPS),
                    help="comma-separated, from: " + ", ".join(GROUPS))
    ap.add_argument("--threads", default="1,2", help="thread counts for the threaded groups")
    ap.add_argument("--candle", action="store_true", help="also run benches/candle (W2-W4)")
    ap.add_argument("--quick", action="store_true", help="shorter criterion measurements")
    args = ap.parse_args()
    threads_list = [int(t) for t in args.threads.split(",")]
    lines = ["| workload | threads | peer | peer µs | tapegrad µs | ratio |",
             "|---|---:|---|---:|---:|---:|"]
    for name in args.groups.split(","):
        group = GROUPS[name]
        for threads in threads_list if group["threaded"] else [1]:
            print(f"{name}, {threads} thread(s) ...", file=sys.stderr)
            rows = [r for s in group["scripts"] for r in peers(s, threads)]
            if name == "lecture" and args.candle:
                rows += candle(threads)
            ours = tapegrad(group["bench"], group["filter"], threads, args.quick)
            for label, system, workload, variant, our_id in group["rows"]:
                theirs, mine = pick(rows, system, workload, variant), ours.get(our_id)
                if theirs is None or mine is None:
                    continue
                lines.append(f"| {label} | {threads} | {system} | {theirs:.2f} | {mine:.2f} | "
                             f"{theirs / mine:.2f}× |")
    machine = f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    table = "\n".join([f"Medians, µs per call ({machine}); ratio = peer / tapegrad.", ""] + lines)
    print(table)
    out = os.path.join(target_dir(), "benchmarks")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "compare.md"), "w") as f:
        f.write(table + "\n")
    print(f"\nwritten to {os.path.join(out, 'compare.md')}", file=sys.stderr)


if __name__ == "__main__":
    main()
