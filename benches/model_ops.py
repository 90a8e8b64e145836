"""PyTorch side of `cargo bench --bench kernels -- model_ops_f32` (issue 7's speed targets).

The same workloads on 10^6 f32 elements, one thread; prints the median of repeated runs.
Run with the anchors environment (../shared/anchors/setup.sh):
    /tmp/tapegrad-anchors/bin/python benches/model_ops.py
"""
import statistics
import time

import torch

torch.set_num_threads(1)
torch.manual_seed(0)
x = torch.randn(1000, 1000)
y = torch.randn(1000, 1000)
quarter = torch.randn(250, 1000)
rows = torch.randint(0, 1000, (1000,))
lanes = torch.randint(0, 1000, (1000, 1000))
mask = x > 0

WORKLOADS = {
    "cat 4 x [250, 1000]": lambda: torch.cat([quarter, quarter, quarter, quarter], 0),
    "index_select dim 0": lambda: x.index_select(0, rows),
    "gather dim 1": lambda: x.gather(1, lanes),
    "where_cond": lambda: torch.where(mask, x, y),
    "clamp": lambda: x.clamp(-0.5, 0.5),
    "sort last dim": lambda: x.sort(dim=-1, stable=True),
    "cumsum last dim": lambda: x.cumsum(-1),
}

for name, f in WORKLOADS.items():
    for _ in range(5):
        f()
    times = []
    for _ in range(30):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    print(f"{name:24s} median {statistics.median(times) * 1e6:9.1f} us")
