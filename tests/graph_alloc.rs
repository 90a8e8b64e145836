//! A planned `Session::run` allocates nothing beyond the vector of tensors it returns: the
//! plan is made once per fetch set, value slots are reused, every intermediate buffer
//! comes back from the per-thread pool (freed values are released as soon as their last
//! reader has run), and tensor handles from the per-thread handle cache. An eager training
//! step, with its tape, allocates nothing at all once warm. (The count is the test
//! thread's own: the harness's main thread allocates now and then while a test runs.)

use tapegrad::graph::{Graph, Session};
use tapegrad::Tensor;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{allocations, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn planned_runs_and_eager_steps_allocate_only_what_they_return() {
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
    // The returned Vec (handles and buffers come from the thread's caches).
    assert!(
        per_run <= 1.0,
        "{per_run} allocations per run; the returned Vec accounts for 1"
    );

    // The lecture's autograd step: five recorded ops, backward, an update, zero_grad.
    let w = w0.clone().requires_grad_(true);
    let step = || {
        let loss = (0.5 * (&xv.mm(&w) - &yv).pow(2.0)).sum();
        loss.backward();
        tapegrad::no_grad(|| w.sub_(&(1e-6 * w.grad().expect("w has a gradient"))));
        w.zero_grad();
        loss.item()
    };
    for _ in 0..10 {
        step();
    }
    let before = allocations();
    for _ in 0..runs {
        std::hint::black_box(step());
    }
    let per_step = (allocations() - before) as f64 / runs as f64;
    eprintln!("{per_step} allocations per eager step");
    // Each tape node and handle reuses one freed the step before.
    assert_eq!(per_step, 0.0, "{per_step} allocations per eager step");
}
