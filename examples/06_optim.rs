//! Lecture step 4.4: `optim`. The hand-written update becomes `optimizer.step()`: Adam as
//! on the slide, and SGD with momentum beside it, each from the same start.
//!
//! The slide:
//! ```python
//! model = torch.nn.Sequential(torch.nn.Linear(D_in, D_out))
//! optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
//! for t in range(500):
//!     y_pred = x.mm(w)        # the slide's mistake: there is no w any more; model(x) is meant
//!     loss = torch.nn.functional.mse_loss(y_pred, y)
//!     optimizer.zero_grad()
//!     loss.backward()
//!     optimizer.step()
//! ```
//! The slide's `lr=1e-4` moves each weight by at most about 1e-4 per step (Adam's step is
//! close to lr), 0.05 in 500 steps: too little to see. Both optimizers use 1e-2 here.
//!
//! Run: `cargo run --release --example 06_optim`

use std::time::Instant;
use tapegrad::nn::{functional::mse_loss, Linear, Module, Sequential};
use tapegrad::optim::{Adam, Optimizer, Sgd};
use tapegrad::{manual_seed, Tensor};

/// Trains the slide's model with the optimizer `make` builds; (first loss, final loss,
/// steps, seconds).
fn train(
    name: &str,
    make: impl FnOnce(Vec<Tensor>) -> Box<dyn Optimizer>,
    verbose: bool,
) -> (f32, f32, usize, f64) {
    let (n, d_in, d_out, steps) = (64, 4, 2, 500);
    manual_seed(0);
    let x: Tensor = Tensor::randn(&[n, d_in]);
    let y: Tensor = Tensor::randn(&[n, d_out]);
    let model: Sequential = Sequential::new().add(Linear::new(d_in, d_out));
    let mut optimizer = make(model.parameters());

    let mut first = None;
    let mut loss_value = f32::NAN;
    let start = Instant::now();
    for t in 0..steps {
        let y_pred = model.forward(&x); // model(x), not the slide's x.mm(w)
        let loss = mse_loss(&y_pred, &y);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        loss_value = loss.item();
        first.get_or_insert(loss_value);
        if verbose && (t % 100 == 0 || t == steps - 1) {
            println!("{name:<5} step {t:4}  loss {loss_value:.6}");
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    (first.unwrap_or(f32::NAN), loss_value, steps, seconds)
}

/// The slide: Adam. (first loss, final loss, steps, seconds)
pub fn run(verbose: bool) -> (f32, f32, usize, f64) {
    train("Adam", |params| Box::new(Adam::new(params, 1e-2)), verbose)
}

/// Beside it: SGD with momentum 0.9 on the same problem.
pub fn run_sgd(verbose: bool) -> (f32, f32, usize, f64) {
    train(
        "SGD",
        |params| Box::new(Sgd::new(params, 1e-2).momentum(0.9)),
        verbose,
    )
}

#[allow(dead_code)]
fn main() {
    for (name, result) in [("Adam", run(true)), ("SGD", run_sgd(true))] {
        let (first, last, steps, seconds) = result;
        println!(
            "{name}: loss {first:.4} -> {last:.4} in {steps} steps, {:.3} µs/step",
            seconds / steps as f64 * 1e6
        );
    }
}
