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
    let (n, d_in, d_out, steps) = (64, 4, 2, 500);
    manual_seed(0);
    let x: Tensor = Tensor::randn(&[n, d_in]);
    let y: Tensor = Tensor::randn(&[n, d_out]);
    let model: Sequential = Sequential::new().add(Linear::new(d_in, d_out));
    let mut optimizer = make(model.parameters());

    let mut progress = Progress::new(steps, 100, verbose).labelled(name);
    for t in 0..steps {
        let y_pred = model.forward(&x); // model(x), not the slide's x.mm(w)
        let loss = mse_loss(&y_pred, &y);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
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
