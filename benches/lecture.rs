//! The lecture's training steps (workloads W1-W6 of ../shared/anchors), per step, plus the
//! heap allocations one step makes, counted by a wrapping global allocator.
//!
//! `cargo bench --bench lecture`. Compare with `../shared/anchors/run.sh lecture` run right
//! before or after on the same machine (BENCHMARKS.md has both and the ratios).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::cell::RefCell;
use std::time::Duration;
use tapegrad::graph::{Graph, Node, Session};
use tapegrad::nn::{functional::mse_loss, Linear, Module, Sequential};
use tapegrad::optim::{Adam, Optimizer};
use tapegrad::{manual_seed, no_grad, Tensor};

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

const LR: f32 = 1e-6;

struct Problem {
    x: Tensor,
    y: Tensor,
    w: Tensor,
}

fn problem(requires_grad: bool) -> Problem {
    manual_seed(0);
    let x = Tensor::randn(&[64, 4]);
    let y = Tensor::randn(&[64, 2]);
    let w = Tensor::randn(&[4, 2]).requires_grad_(requires_grad);
    Problem { x, y, w }
}

/// W1/W2: the NumPy and manual-PyTorch slides' step (gradient by hand, loss computed),
/// op for op as in ../shared/anchors/lecture_numpy_torch.py (`y_pred - y` twice).
fn manual_step(p: &Problem) -> f32 {
    let y_pred = p.x.mm(&p.w);
    let loss = (0.5 * (&y_pred - &p.y).pow(2.0)).sum();
    let grad_y_pred = &y_pred - &p.y;
    let grad_w = p.x.t().mm(&grad_y_pred);
    p.w.sub_(&(grad_w * LR));
    loss.item()
}

/// W3: the autograd slide's step.
fn autograd_step(p: &Problem) -> f32 {
    let loss = (0.5 * (&p.x.mm(&p.w) - &p.y).pow(2.0)).sum();
    loss.backward();
    no_grad(|| p.w.sub_(&(LR * p.w.grad().expect("w has a gradient"))));
    p.w.zero_grad();
    loss.item()
}

/// W6, TensorFlow 1 style: loss and gradient through Session::run with a feed dict,
/// the update outside the graph (as `lecture_tf.py`'s `w6_tf1_graph`).
struct FeedDictStep {
    session: Session,
    x: Node,
    y: Node,
    w: Node,
    loss: Node,
    grad_w: Node,
    values: Problem,
}

fn feed_dict_step(s: &FeedDictStep) -> f32 {
    let v = &s.values;
    let out = s
        .session
        .run(
            &[&s.loss, &s.grad_w],
            &[(&s.x, &v.x), (&s.y, &v.y), (&s.w, &v.w)],
        )
        .expect("fed");
    v.w.sub_(&(&out[1] * LR));
    out[0].item()
}

fn feed_dict_graph() -> FeedDictStep {
    let g = Graph::<f32>::new();
    let (x, y, w) = (
        g.placeholder("x", &[64, 4]),
        g.placeholder("y", &[64, 2]),
        g.placeholder("w", &[4, 2]),
    );
    let loss = (0.5 * (x.mm(&w) - &y).pow(2.0)).sum();
    let grad_w = g.gradients(&loss, &[&w]).remove(0);
    FeedDictStep {
        session: Session::new(&g),
        x,
        y,
        w,
        loss,
        grad_w,
        values: problem(false),
    }
}

/// W6, the whole step inside the graph (a variable and an assign; like tf.function).
struct InGraphStep {
    session: Session,
    x: Node,
    y: Node,
    loss: Node,
    step: Node,
    values: Problem,
}

fn in_graph_step(s: &InGraphStep) -> f32 {
    let out = s
        .session
        .run(
            &[&s.loss, &s.step],
            &[(&s.x, &s.values.x), (&s.y, &s.values.y)],
        )
        .expect("fed");
    out[0].item()
}

fn in_graph() -> InGraphStep {
    let values = problem(false);
    let g = Graph::<f32>::new();
    let (x, y) = (g.placeholder("x", &[64, 4]), g.placeholder("y", &[64, 2]));
    let w = g.variable("w", &values.w);
    let loss = (0.5 * (x.mm(&w) - &y).pow(2.0)).sum();
    let grad_w = &g.gradients(&loss, &[&w])[0];
    let step = w.assign(&(&w - &(LR * grad_w)));
    InGraphStep {
        session: Session::new(&g),
        x,
        y,
        loss,
        step,
        values,
    }
}

/// W4 / W5: a model, `mse_loss` and Adam (lr 1e-4, as ../shared/anchors/common.py).
struct AdamStep<M> {
    model: M,
    optimizer: RefCell<Adam>,
    x: Tensor,
    y: Tensor,
}

fn adam_problem<M: Module>(model: M) -> AdamStep<M> {
    let x = Tensor::randn(&[64, 4]);
    let y = Tensor::randn(&[64, 2]);
    let optimizer = RefCell::new(Adam::new(model.parameters(), 1e-4));
    AdamStep {
        model,
        optimizer,
        x,
        y,
    }
}

fn adam_step<M: Module>(s: &AdamStep<M>) -> f32 {
    let loss = mse_loss(&s.model.forward(&s.x), &s.y);
    let mut optimizer = s.optimizer.borrow_mut();
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    loss.item()
}

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
