//! S3 of issue 11: one LeNet-5 training step, batch 64 of 1×28×28: conv 6@5×5, ReLU,
//! max-pool 2; conv 16@5×5, ReLU, max-pool 2; then 120, 84 and 10 units (ReLU between);
//! cross-entropy and Adam (lr 1e-3). `benches/cnn.py` is the same step in PyTorch.
//! Threads: TAPEGRAD_NUM_THREADS (default: every core).
//!
//! Also the convolution alone (forward, and forward + backward) at LeNet's first and
//! second layer, to compare the im2col + GEMM kernel with PyTorch's.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::time::Duration;
use tapegrad::nn::functional::{conv2d, cross_entropy};
use tapegrad::nn::{Conv2d, Flatten, Linear, MaxPool2d, Module, Relu, Sequential};
use tapegrad::optim::{Adam, Optimizer};
use tapegrad::{manual_seed, Tensor};

/// LeNet-5 as `benches/cnn.py` builds it.
pub fn lenet() -> Sequential {
    Sequential::new()
        .add(Conv2d::new(1, 6, 5))
        .add(Relu)
        .add(MaxPool2d::new(2))
        .add(Conv2d::new(6, 16, 5))
        .add(Relu)
        .add(MaxPool2d::new(2))
        .add(Flatten::new())
        .add(Linear::new(16 * 4 * 4, 120))
        .add(Relu)
        .add(Linear::new(120, 84))
        .add(Relu)
        .add(Linear::new(84, 10))
}

fn cnn(c: &mut Criterion) {
    manual_seed(0);
    let x: Tensor = Tensor::randn(&[64, 1, 28, 28]);
    let labels = Tensor::randint(0, 10, &[64]);
    let model = lenet();
    let mut optimizer = Adam::new(model.parameters(), 1e-3);
    let mut step = || {
        let loss = cross_entropy(&model.forward(&x), &labels);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        loss.item()
    };
    let mut group = c.benchmark_group("cnn");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group.bench_function("S3 LeNet-5 step, batch 64, cross-entropy, Adam", |b| {
        b.iter(|| black_box(step()))
    });

    for (name, input, weight) in [
        (
            "conv1 [64,1,28,28] * [6,1,5,5]",
            [64, 1, 28, 28],
            [6, 1, 5, 5],
        ),
        (
            "conv2 [64,6,12,12] * [16,6,5,5]",
            [64, 6, 12, 12],
            [16, 6, 5, 5],
        ),
    ] {
        let x: Tensor = Tensor::randn(&input).requires_grad_(true);
        let w: Tensor = Tensor::randn(&weight).requires_grad_(true);
        let b: Tensor = Tensor::randn(&[weight[0]]).requires_grad_(true);
        group.bench_function(format!("{name} forward"), |bench| {
            bench.iter(|| black_box(tapegrad::no_grad(|| conv2d(&x, &w, Some(&b), 1, 0, 1, 1))))
        });
        group.bench_function(format!("{name} forward + backward"), |bench| {
            bench.iter(|| {
                conv2d(&x, &w, Some(&b), 1, 0, 1, 1).sum().backward();
                black_box(w.grad())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, cnn);
criterion_main!(benches);
