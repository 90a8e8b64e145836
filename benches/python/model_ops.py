"""PyTorch side of `cargo bench -p tapegrad-benches --bench kernels -- model_ops_f32`
(issue 7's speed targets).

The same workloads on 10^6 f32 elements, one thread; prints one JSON line per workload,
the median of repeated runs in µs. Run with benches/python/requirements.txt installed:
    python benches/python/model_ops.py
"""
import torch

from common import per_call, report

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
    report(name, "torch", torch.__version__, 1, 1, per_call(f, warmup=5, calls=30))
