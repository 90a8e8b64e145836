"""PyTorch side of `cargo bench -p tapegrad-benches --bench kernels -- speed2_f32`
(issue 13's kernel targets): vector math on 10^6 and 10^7 f32 (and `x * 2`, the memory
traffic alone), max_dim, an add with a transposed operand (and that operand copied
row-major alone, the data movement under the add), softmax + cross-entropy
forward and backward.

Prints one JSON line per workload, the median of single calls in µs, with the thread
count given (default 1):
    python benches/python/kernels.py 2
"""
import sys

import torch
import torch.nn.functional as F

from common import per_call, report

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
torch.set_num_threads(threads)
torch.manual_seed(0)
WORKLOADS = {}
for label, n in [("1e6", 10**6), ("1e7", 10**7)]:
    x = torch.randn(n // 1000, 1000)
    positive = x.abs() + 0.1
    WORKLOADS[f"exp {label}"] = lambda x=x: torch.exp(x)
    WORKLOADS[f"log {label}"] = lambda p=positive: torch.log(p)
    WORKLOADS[f"tanh {label}"] = lambda x=x: torch.tanh(x)
    WORKLOADS[f"sigmoid {label}"] = lambda x=x: torch.sigmoid(x)
    WORKLOADS[f"gelu {label}"] = lambda x=x: F.gelu(x)
    WORKLOADS[f"mul_scalar {label}"] = lambda x=x: x * 2.0
x = torch.randn(1000, 1000)
y = torch.randn(1000, 1000)
WORKLOADS["max_dim 1 [1000, 1000]"] = lambda: x.max(dim=1)
WORKLOADS["add 1e6"] = lambda: x + y
WORKLOADS["add transposed 1e6"] = lambda: x.t() + y
WORKLOADS["contiguous of transposed 1e6"] = lambda: x.t().contiguous()
logits = torch.randn(1024, 1000, requires_grad=True)
labels = torch.randint(0, 1000, (1024,))


def softmax_cross_entropy():
    logits.grad = None
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    return loss.item()


WORKLOADS["softmax + cross_entropy fwd+bwd [1024, 1000]"] = softmax_cross_entropy

for name, f in WORKLOADS.items():
    report(name, "torch", torch.__version__, threads, 1,
           per_call(f, warmup=5, calls=30, min_seconds=1.0))
