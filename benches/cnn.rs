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

/// The alternative to im2col + GEMM, measured beside it: a direct loop nest (stride 1, no
/// padding), the innermost loop an axpy along an output row so it vectorises.
/// `out[n, o, y, :] += w[o, c, i, j] · x[n, c, y + i, j ..]`.
fn direct_conv(x: &[f32], xs: [usize; 4], w: &[f32], ws: [usize; 4], out: &mut [f32]) {
    let ([n, c, h, wd], [o, _, kh, kw]) = (xs, ws);
    let (oh, ow) = (h - kh + 1, wd - kw + 1);
    out.fill(0.0);
    for b in 0..n {
        for oc in 0..o {
            let plane = &mut out[(b * o + oc) * oh * ow..][..oh * ow];
            for ic in 0..c {
                let input = &x[(b * c + ic) * h * wd..][..h * wd];
                for i in 0..kh {
                    for j in 0..kw {
                        let k = w[((oc * c + ic) * kh + i) * kw + j];
                        for y in 0..oh {
                            let src = &input[(y + i) * wd + j..][..ow];
                            for (d, &v) in plane[y * ow..(y + 1) * ow].iter_mut().zip(src) {
                                *d += k * v;
                            }
                        }
                    }
                }
            }
        }
    }
}

fn direct(c: &mut Criterion) {
    let mut group = c.benchmark_group("cnn");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
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
        let x: Vec<f32> = Tensor::<f32>::randn(&input).to_vec();
        let w: Vec<f32> = Tensor::<f32>::randn(&weight).to_vec();
        let (oh, ow) = (input[2] - weight[2] + 1, input[3] - weight[3] + 1);
        let mut out = vec![0.0f32; input[0] * weight[0] * oh * ow];
        group.bench_function(
            format!("{name} forward, direct loop nest (1 thread)"),
            |b| {
                b.iter(|| {
                    direct_conv(&x, input, &w, weight, &mut out);
                    black_box(out[0])
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, cnn, direct);
criterion_main!(benches);
