"""PyTorch side of `cargo bench --bench higher_order` (issue 9's targets): on S2's MLP
(784-256-10 ReLU, batch 128, MSE), one gradient (forward + backward for the four
parameters) and one Hessian-vector product for them, `torch.autograd.functional.hvp`.
Prints one JSON line per workload, the median of repeated runs in µs. Threads: the first
argument (default 1). Run with benches/python/requirements.txt installed:
    python benches/python/higher_order.py 1
    python benches/python/higher_order.py 2
"""
import sys

import torch
import torch.nn.functional as F
from torch.autograd.functional import hvp

from common import per_call, report

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
torch.set_num_threads(threads)
torch.manual_seed(0)
B, DI, H, DO = 128, 784, 256, 10
x = torch.randn(B, DI)
y = torch.randn(B, DO)
params = (
    torch.randn(H, DI) * 0.03,
    torch.zeros(H),
    torch.randn(DO, H) * 0.06,
    torch.zeros(DO),
)
vs = tuple(torch.randn_like(p) for p in params)


def loss(w1, b1, w2, b2):
    return F.mse_loss(F.linear(F.linear(x, w1, b1).relu(), w2, b2), y)


def gradient():
    ps = [p.detach().requires_grad_(True) for p in params]
    return torch.autograd.grad(loss(*ps), ps)


def hessian_vector():
    return hvp(loss, params, vs)


WORKLOADS = {
    "gradient": gradient,
    "hvp": hessian_vector,
}

for name, f in WORKLOADS.items():
    report(name, "torch", torch.__version__, threads, 1, per_call(f, warmup=10, calls=50))
