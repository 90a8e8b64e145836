//! Lecture step 4.3: `nn`. The weight matrix becomes a `Linear` layer inside a
//! `Sequential`, the loss becomes `mse_loss`, and the update still runs by hand under
//! `no_grad`, now over `model.parameters()`.
//!
//! The slide:
//! ```python
//! model = torch.nn.Sequential(torch.nn.Linear(D_in, D_out))
//! for t in range(500):
//!     y_pred = model(x)
//!     loss = torch.nn.functional.mse_loss(y_pred, y)
//!     model.zero_grad()
//!     loss.backward()
//!     with torch.no_grad():
//!         for param in model.parameters():
//!             param -= learning_rate * param.grad
//! ```
//! `mse_loss` takes the mean, not the sum the earlier steps used, so its gradient is
//! 1/(N·D_out) = 1/128 as large: the rate is 1e-2 here (the earlier 1e-6 would not move
//! the weights visibly in 500 steps).
//!
//! Run: `cargo run --release --example 05_nn`

#[path = "support/progress.rs"]
#[allow(dead_code)]
mod progress;

use progress::{print_outcome, Outcome, Progress};
use tapegrad::nn::{functional::mse_loss, Linear, Module, Sequential};
use tapegrad::{manual_seed, no_grad, Tensor};

pub fn run(verbose: bool) -> Outcome {
    let (n, d_in, d_out, learning_rate, steps) = (64, 4, 2, 1e-2f32, 500);
    manual_seed(0);
    let x: Tensor = Tensor::randn(&[n, d_in]);
    let y: Tensor = Tensor::randn(&[n, d_out]);
    let model: Sequential = Sequential::new().add(Linear::new(d_in, d_out));
    if verbose {
        for (name, p) in model.named_parameters() {
            println!("parameter {name}: {:?}", p.shape()); // "0.weight", "0.bias"
        }
    }

    let mut progress = Progress::new(steps, 100, verbose);
    for t in 0..steps {
        let y_pred = model.forward(&x); // model(x)
        let loss = mse_loss(&y_pred, &y);
        model.zero_grad();
        loss.backward();
        no_grad(|| {
            for param in model.parameters() {
                let grad = param.grad().expect("backward reached every parameter");
                param.sub_(&(learning_rate * grad)); // param -= learning_rate * param.grad
            }
        });
        let loss_value = loss.item();
        progress.record(t, loss_value);
    }
    progress.finish()
}

#[allow(dead_code)]
fn main() {
    print_outcome(run(true));
}
