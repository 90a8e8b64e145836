"""PyTorch side of `cargo bench --bench cnn` (issue 11's S3): a LeNet-5 training step,
batch 64 of 1x28x28, cross-entropy, Adam; and LeNet's two convolutions alone.

Run with benches/python/requirements.txt installed, with the thread count:
    python benches/python/cnn.py 1
    python benches/python/cnn.py 2
Prints one JSON line per workload: the median of repeated runs (after a warm-up), in µs.
"""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from common import per_call, report

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
torch.set_num_threads(threads)
torch.manual_seed(0)

model = nn.Sequential(
    nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(16 * 4 * 4, 120), nn.ReLU(),
    nn.Linear(120, 84), nn.ReLU(),
    nn.Linear(84, 10),
)
x = torch.randn(64, 1, 28, 28)
labels = torch.randint(0, 10, (64,))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)


def step():
    loss = F.cross_entropy(model(x), labels)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def conv_case(input_shape, weight_shape):
    xi = torch.randn(*input_shape, requires_grad=True)
    w = torch.randn(*weight_shape, requires_grad=True)
    b = torch.randn(weight_shape[0], requires_grad=True)

    def forward():
        with torch.no_grad():
            return F.conv2d(xi, w, b)

    def both():
        F.conv2d(xi, w, b).sum().backward()
        return w.grad

    return forward, both


WORKLOADS = {"S3 LeNet-5 step, batch 64, cross-entropy, Adam": step}
for name, i, w in [
    ("conv1 [64,1,28,28] * [6,1,5,5]", (64, 1, 28, 28), (6, 1, 5, 5)),
    ("conv2 [64,6,12,12] * [16,6,5,5]", (64, 6, 12, 12), (16, 6, 5, 5)),
]:
    forward, both = conv_case(i, w)
    WORKLOADS[name + " forward"] = forward
    WORKLOADS[name + " forward + backward"] = both

for name, f in WORKLOADS.items():
    report(name, "torch", torch.__version__, threads, 1, per_call(f, warmup=20, calls=30, min_seconds=3.0))
