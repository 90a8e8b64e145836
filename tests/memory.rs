//! A training loop runs in flat memory: the graph of each step is freed with its loss, and
//! optimizer state and cached buffers stay the same size.

#[path = "support/generator.rs"]
mod generator;

use generator::take_turn;
use tapegrad::nn::{functional::cross_entropy, Linear, Module, Relu, Sequential};
use tapegrad::optim::{Adam, AdamW, Optimizer};
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
    // Resident memory is the whole process\'s: measure one loop at a time.
    let _turn = take_turn();
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

/// A model, a loss and an optimizer (W4's step, and an MLP with ReLU and cross-entropy):
/// forward, zero_grad, backward, step.
fn train_model(
    model: &impl Module,
    optimizer: &mut dyn Optimizer,
    x: &Tensor,
    classes: &[usize],
    steps: usize,
) {
    for _ in 0..steps {
        let loss = cross_entropy(&model.forward(x), classes);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
    }
}

/// A model, its optimizer, the input shape, and the steps to measure.
type Case = (Sequential, Box<dyn Optimizer>, [usize; 2], usize);

#[test]
fn nn_and_optimizer_loops_hold_memory_flat() {
    // Resident memory is the whole process\'s: measure one loop at a time.
    let _turn = take_turn();
    let Some(_) = resident_bytes() else {
        eprintln!("no /proc/self/statm on this platform: nothing to measure");
        return;
    };
    manual_seed(0);
    // The lecture's size with Adam, 100,000 steps; then an MLP whose weight gradient is too
    // large for the small-buffer cache (256 x 784), with AdamW, 300 steps.
    let cases: Vec<Case> = vec![
        {
            let m = Sequential::new().add(Linear::new(4, 2));
            let o = Box::new(Adam::new(m.parameters(), 1e-3));
            (m, o, [64, 4], 100_000)
        },
        {
            let m = Sequential::new()
                .add(Linear::new(784, 256))
                .add(Relu)
                .add(Linear::new(256, 10));
            let o = Box::new(AdamW::new(m.parameters(), 1e-3));
            (m, o, [128, 784], 300)
        },
    ];
    for (model, mut optimizer, shape, steps) in cases {
        let x: Tensor = Tensor::randn(&shape);
        let classes: Vec<usize> = (0..shape[0]).map(|i| i % 2).collect();
        train_model(&model, optimizer.as_mut(), &x, &classes, steps / 10); // warm up
        let before = resident_bytes().unwrap();
        train_model(&model, optimizer.as_mut(), &x, &classes, steps);
        let after = resident_bytes().unwrap();
        // One leaked gradient per step would be 6 MB (lecture) or 240 MB (MLP) here.
        assert!(
            after <= before + 1024 * 1024,
            "{shape:?}: resident memory grew from {} KiB to {} KiB over {steps} steps",
            before / 1024,
            after / 1024
        );
    }
}
