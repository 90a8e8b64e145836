//! Lecture section 4, slide "세상 단순한 인공 신경망 (4)": `optim`. The hand-written update
//! becomes `optimizer.step()`: Adam as on the slide, and SGD (the slide's other named
//! optimizer) with momentum beside it, each from the same start.
//!
//! The slide's code, as printed:
//! ```python
//! import torch
//! N, Din, Dout = 64, 4, 2
//! x = torch.randn(N, Din, device=device)
//! y = torch.randn(N, Dout, device=device)
//! model = torch.nn.Sequential(torch.nn.Linear(Din, Dout))
//! lr = 1e-6
//! optimizer = torch.optim.Adam(model.parameters(), lr=lr)
//! for t in range(500):
//!     y_pred = x.mm(w)
//!     loss = torch.nn.functional.mse_loss(y_pred, y)
//!     loss.backward()
//!     optimizer.step()
//!     optimizer.zero_grad()
//! ```
//! Two things differ here, on purpose:
//! - `y_pred = x.mm(w)` is a slip on the slide: there is no `w` any more (it would raise a
//!   `NameError`); `model(x)` is meant, and is what this example runs.
//! - Adam moves each weight by about `lr` per step, so the slide's `lr = 1e-6` moves it by
//!   at most 5e-4 in 500 steps, too little to see. Both optimizers use 1e-2 here.
//!
//! Run: `cargo run --release --example 06_optim`

#[path = "support/progress.rs"]
#[allow(dead_code)]
mod progress;

use progress::{print_outcome, Outcome, Progress};
use tapegrad::nn::{functional::mse_loss, Linear, Module, Sequential};
use tapegrad::optim::{Adam, Optimizer, Sgd};
use tapegrad::{manual_seed, Tensor};

/// Trains the slide's model with the optimizer `make` builds.
fn train(
    name: &'static str,
    make: impl FnOnce(Vec<Tensor>) -> Box<dyn Optimizer>,
    verbose: bool,
) -> Outcome {
    let (n, din, dout, steps) = (64, 4, 2, 500);
    manual_seed(0);
    let x: Tensor = Tensor::randn(&[n, din]);
    let y: Tensor = Tensor::randn(&[n, dout]);
    let model: Sequential = Sequential::new().add(Linear::new(din, dout));
    let mut optimizer = make(model.parameters());

    let mut progress = Progress::new(steps, 100, verbose).labelled(name);
    for t in 0..steps {
        let y_pred = model.forward(&x); // model(x), not the slide's x.mm(w)
        let loss = mse_loss(&y_pred, &y);
        loss.backward();
        optimizer.step();
        optimizer.zero_grad(); // the slide's order: backward, step, zero_grad
        let loss_value = loss.item();
        progress.record(t, loss_value);
    }
    progress.finish()
}

/// The slide: Adam.
pub fn run(verbose: bool) -> Outcome {
    train("Adam", |params| Box::new(Adam::new(params, 1e-2)), verbose)
}

/// Beside it: SGD with momentum 0.9 on the same problem.
pub fn run_sgd(verbose: bool) -> Outcome {
    train(
        "SGD",
        |params| Box::new(Sgd::new(params, 1e-2).momentum(0.9)),
        verbose,
    )
}

#[allow(dead_code)]
fn main() {
    for (name, result) in [("Adam", run(true)), ("SGD", run_sgd(true))] {
        print!("{name}: ");
        print_outcome(result);
    }
}
