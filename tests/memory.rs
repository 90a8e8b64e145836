//! A training loop runs in flat memory: the graph of each step is freed with its loss.

use tapegrad::{manual_seed, no_grad, Tensor};

/// Resident set size in bytes, from /proc (Linux).
fn resident_bytes() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// The lecture's autograd step (W3): mm, sub, pow, sum, backward, no_grad update, zero_grad.
fn train(x: &Tensor, y: &Tensor, w: &Tensor, steps: usize) {
    for _ in 0..steps {
        let loss = (0.5 * (&x.mm(w) - y).pow(2.0)).sum();
        loss.backward();
        no_grad(|| w.sub_(&(1e-6 * w.grad().unwrap())));
        w.zero_grad();
    }
}

#[test]
fn autograd_loop_of_200000_steps_holds_memory_flat() {
    let Some(_) = resident_bytes() else {
        eprintln!("no /proc/self/statm on this platform: nothing to measure");
        return;
    };
    manual_seed(0);
    let x: Tensor = Tensor::randn(&[64, 4]);
    let y: Tensor = Tensor::randn(&[64, 2]);
    let w: Tensor = Tensor::randn(&[4, 2]).requires_grad_(true);
    train(&x, &y, &w, 20_000); // warm up the allocator
    let before = resident_bytes().unwrap();
    train(&x, &y, &w, 200_000);
    let after = resident_bytes().unwrap();
    // A leak of even one 8-element gradient per step would be 6 MB here.
    assert!(
        after <= before + 512 * 1024,
        "resident memory grew from {} KiB to {} KiB over 200,000 steps",
        before / 1024,
        after / 1024
    );
    assert!(w.to_vec().iter().all(|v| v.is_finite()));
}
