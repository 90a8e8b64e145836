//! The lecture's training steps (workloads W1-W6 of ../shared/anchors), per step, plus the
//! heap allocations one step makes, counted by a wrapping global allocator.
//!
//! `cargo bench --bench lecture`. Compare with `../shared/anchors/run.sh lecture` run right
//! before or after on the same machine (BENCHMARKS.md has both and the ratios).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::time::Duration;
use tapegrad::manual_seed;
use tapegrad::nn::{Linear, Sequential};

mod support {
    // W1-W6 only: S2 is for the MLP bench.
    #[allow(dead_code)]
    pub mod workloads;
}
use support::workloads::*;

#[path = "../examples/07_custom_module.rs"]
#[allow(dead_code)]
mod custom_module;
use custom_module::MyOneLayerNet;

/// Counts allocations so the report can say how many one step makes.
#[path = "../tests/support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{allocations, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_per_step<P>(p: &P, step: fn(&P) -> f32) -> f64 {
    for _ in 0..10 {
        step(p);
    }
    let before = allocations();
    for _ in 0..1000 {
        black_box(step(p));
    }
    (allocations() - before) as f64 / 1000.0
}

fn lecture(c: &mut Criterion) {
    let mut group = c.benchmark_group("lecture");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    let manual = problem(false);
    eprintln!(
        "W1 manual step: {} heap allocations per step",
        allocations_per_step(&manual, manual_step)
    );
    group.bench_function("W1 manual step (64x4, numpy slide)", |b| {
        b.iter(|| black_box(manual_step(&manual)))
    });
    let auto = problem(true);
    eprintln!(
        "W3 autograd step: {} heap allocations per step",
        allocations_per_step(&auto, autograd_step)
    );
    group.bench_function("W3 autograd step", |b| {
        b.iter(|| black_box(autograd_step(&auto)))
    });
    manual_seed(0);
    let w4 = adam_problem(Sequential::new().add(Linear::new(4, 2)));
    eprintln!(
        "W4 Sequential + Adam step: {} heap allocations per step",
        allocations_per_step(&w4, adam_step)
    );
    group.bench_function("W4 Sequential(Linear) + mse_loss + Adam step", |b| {
        b.iter(|| black_box(adam_step(&w4)))
    });
    manual_seed(0);
    // W5's `nn.Module` subclass, from the lecture's example.
    let w5 = adam_problem(MyOneLayerNet::new(4, 2));
    eprintln!(
        "W5 Module + Adam step: {} heap allocations per step",
        allocations_per_step(&w5, adam_step)
    );
    group.bench_function("W5 own Module + mse_loss + Adam step", |b| {
        b.iter(|| black_box(adam_step(&w5)))
    });
    let feed = feed_dict_graph();
    eprintln!(
        "W6 graph, feed dict: {} heap allocations per step",
        allocations_per_step(&feed, feed_dict_step)
    );
    group.bench_function("W6 graph step, feed dict + update outside", |b| {
        b.iter(|| black_box(feed_dict_step(&feed)))
    });
    let inside = in_graph();
    eprintln!(
        "W6 graph, in-graph update: {} heap allocations per step",
        allocations_per_step(&inside, in_graph_step)
    );
    group.bench_function("W6 graph step, variable + assign", |b| {
        b.iter(|| black_box(in_graph_step(&inside)))
    });
    group.finish();
}

criterion_group!(benches, lecture);
criterion_main!(benches);
