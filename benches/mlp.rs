//! S2 of ../shared/anchors: one training step of a 784-256-10 ReLU MLP, batch 128, MSE
//! loss, Adam (lr 1e-3). Threads: TAPEGRAD_NUM_THREADS (default: every core), so
//! `TAPEGRAD_NUM_THREADS=2 cargo bench --bench mlp` matches `run.sh s2 2`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::time::Duration;
use tapegrad::nn::{functional::mse_loss, Linear, Module, Relu, Sequential};
use tapegrad::optim::{Adam, Optimizer};
use tapegrad::{manual_seed, Tensor};

const B: usize = 128;
const DI: usize = 784;
const H: usize = 256;
const DO: usize = 10;

fn mlp(c: &mut Criterion) {
    manual_seed(0);
    let x: Tensor = Tensor::randn(&[B, DI]);
    let y: Tensor = Tensor::randn(&[B, DO]);
    let model: Sequential = Sequential::new()
        .add(Linear::new(DI, H))
        .add(Relu)
        .add(Linear::new(H, DO));
    let mut optimizer = Adam::new(model.parameters(), 1e-3);
    let mut step = || {
        let loss = mse_loss(&model.forward(&x), &y);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        loss.item()
    };
    let mut group = c.benchmark_group("mlp");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group.bench_function("S2 784-256-10 ReLU MLP step, batch 128, MSE, Adam", |b| {
        b.iter(|| black_box(step()))
    });
    group.finish();
}

criterion_group!(benches, mlp);
criterion_main!(benches);
