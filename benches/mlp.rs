//! S2 of ../shared/anchors: one training step of a 784-256-10 ReLU MLP, batch 128, MSE
//! loss, Adam (lr 1e-3). Threads: TAPEGRAD_NUM_THREADS (default: every core), so
//! `TAPEGRAD_NUM_THREADS=2 cargo bench --bench mlp` matches `run.sh s2 2`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::time::Duration;

mod support {
    // S2 only: the others are for the lecture bench.
    #[allow(dead_code)]
    pub mod workloads;
}
use support::workloads::{adam_step, mlp_problem};

fn mlp(c: &mut Criterion) {
    let step = mlp_problem();
    let mut group = c.benchmark_group("mlp");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group.bench_function("S2 784-256-10 ReLU MLP step, batch 128, MSE, Adam", |b| {
        b.iter(|| black_box(adam_step(&step)))
    });
    group.finish();
}

criterion_group!(benches, mlp);
criterion_main!(benches);
