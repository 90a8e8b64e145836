//! A planned `Session::run` allocates nothing beyond the tensors it returns: the plan is
//! made once per fetch set, value slots are reused, and every intermediate buffer comes
//! back from the per-thread pool (freed values are released as soon as their last
//! reader has run).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use tapegrad::graph::{Graph, Session};
use tapegrad::Tensor;

struct Counting;
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarding the caller's layout to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

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
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..runs {
        let out = sess.run(&[&loss, &step], &feeds).unwrap();
        std::hint::black_box(out);
    }
    let per_run = (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / runs as f64;
    eprintln!("{per_run} allocations per planned run");
    // The returned Vec and one handle per fetched tensor (their buffers come from the pool).
    assert!(
        per_run <= 3.0,
        "{per_run} allocations per run; the outputs account for 3"
    );
}
