//! Lecture section 4, slide "세상 단순한 인공 신경망 (3)": `nn`. The weight matrix becomes a
//! `Linear` layer inside a `Sequential`, the loss becomes `mse_loss`, and the update still
//! runs by hand under `no_grad`, now over `model.parameters()`.
//!
//! The slide lists exactly that (`nn.Sequential()` for the model, `nn.Linear()` for the
//! layer, `nn.functional.mse_loss()` for the loss), but its code block is a copy of slide
//! (2)'s autograd code: it never shows them. This is what its bullets describe, in PyTorch:
//! ```python
//! N, Din, Dout = 64, 4, 2
//! model = torch.nn.Sequential(torch.nn.Linear(Din, Dout))
//! for t in range(500):
//!     y_pred = model(x)
//!     loss = torch.nn.functional.mse_loss(y_pred, y)
//!     model.zero_grad()
//!     loss.backward()
//!     with torch.no_grad():
//!         for param in model.parameters():
//!             param -= lr * param.grad
//! ```
//! `mse_loss` takes the mean, not the sum the earlier steps used, so its gradient is
//! 1/(N·Dout) = 1/128 as large: the rate is 1e-2 here (the slides' 1e-6 would not move
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
    let (n, din, dout, lr, steps) = (64, 4, 2, 1e-2f32, 500);
    manual_seed(0);
    let x: Tensor = Tensor::randn(&[n, din]);
    let y: Tensor = Tensor::randn(&[n, dout]);
    let model: Sequential = Sequential::new().add(Linear::new(din, dout));
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
                param.sub_(&(lr * grad)); // param -= lr * param.grad
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
