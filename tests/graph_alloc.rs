//! A planned `Session::run` allocates nothing beyond the tensors it returns: the plan is
//! made once per fetch set, value slots are reused, and every intermediate buffer comes
//! back from the per-thread pool (freed values are released as soon as their last
//! reader has run).

use tapegrad::graph::{Graph, Session};
use tapegrad::Tensor;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{allocations, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn planned_runs_allocate_only_their_outputs() {
    tapegrad::manual_seed(0);
    let (xv, yv, w0) = (
        Tensor::<f32>::randn(&[64, 4]),
        Tensor::<f32>::randn(&[64, 2]),
        Tensor::<f32>::randn(&[4, 2]),
    );
    let g = Graph::<f32>::new();
    let (x, y) = (g.placeholder("x", &[64, 4]), g.placeholder("y", &[64, 2]));
    let w = g.variable("w", &w0);
    let loss = (0.5 * (x.mm(&w) - &y).pow(2.0)).sum();
    let grad_w = &g.gradients(&loss, &[&w])[0];
    let step = w.assign(&(&w - &(1e-6 * grad_w)));
    let sess = Session::new(&g);
    let feeds = [(&x, &xv), (&y, &yv)];
    for _ in 0..10 {
        sess.run(&[&loss, &step], &feeds).unwrap();
    }
    let runs = 1000;
    let before = allocations();
    for _ in 0..runs {
        let out = sess.run(&[&loss, &step], &feeds).unwrap();
        std::hint::black_box(out);
    }
    let per_run = (allocations() - before) as f64 / runs as f64;
    eprintln!("{per_run} allocations per planned run");
    // The returned Vec and one handle per fetched tensor (their buffers come from the pool).
    assert!(
        per_run <= 3.0,
        "{per_run} allocations per run; the outputs account for 3"
    );
}
