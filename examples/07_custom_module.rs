//! Lecture step 4.5: a module of your own. A struct, its `forward`, and one place that
//! names its parameters: the same three things a PyTorch `nn.Module` subclass has.
//!
//! The slide:
//! ```python
//! class MyOneLayerNet(torch.nn.Module):
//!     def __init__(self, D_in, D_out):
//!         super().__init__()
//!         self.linear = torch.nn.Linear(D_in, D_out)
//!     def forward(self, x):
//!         return self.linear(x)
//!
//! model = MyOneLayerNet(D_in, D_out)
//! optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
//! for t in range(500):
//!     y_pred = model(x)
//!     loss = torch.nn.functional.mse_loss(y_pred, y)
//!     optimizer.zero_grad()
//!     loss.backward()
//!     optimizer.step()
//! ```
//! PyTorch finds `self.linear` by watching attribute assignment; Rust has no such hook, so
//! `named_parameters` lists it, under the same name (`"linear.weight"`, `"linear.bias"`).
//!
//! Run: `cargo run --release --example 07_custom_module`

#[path = "support/progress.rs"]
#[allow(dead_code)]
mod progress;

use progress::{print_outcome, Outcome, Progress};
use tapegrad::nn::{functional::mse_loss, Linear, Module, Params};
use tapegrad::optim::{Adam, Optimizer};
use tapegrad::{manual_seed, Tensor};

/// The lecture's own module.
pub struct MyOneLayerNet {
    linear: Linear,
}

impl MyOneLayerNet {
    /// `MyOneLayerNet(D_in, D_out)`.
    pub fn new(d_in: usize, d_out: usize) -> Self {
        MyOneLayerNet {
            linear: Linear::new(d_in, d_out),
        }
    }
}

impl Module for MyOneLayerNet {
    fn forward(&self, x: &Tensor) -> Tensor {
        self.linear.forward(x)
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        Params::new().module("linear", &self.linear).into()
    }
}

pub fn run(verbose: bool) -> Outcome {
    let (n, d_in, d_out, learning_rate, steps) = (64, 4, 2, 1e-2f32, 500);
    manual_seed(0);
    let x: Tensor = Tensor::randn(&[n, d_in]);
    let y: Tensor = Tensor::randn(&[n, d_out]);
    let model = MyOneLayerNet::new(d_in, d_out);
    if verbose {
        for (name, p) in model.named_parameters() {
            println!("parameter {name}: {:?}", p.shape());
        }
    }
    let mut optimizer = Adam::new(model.parameters(), learning_rate);

    let mut progress = Progress::new(steps, 100, verbose);
    for t in 0..steps {
        let y_pred = model.forward(&x);
        let loss = mse_loss(&y_pred, &y);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        let loss_value = loss.item();
        progress.record(t, loss_value);
    }
    progress.finish()
}

#[allow(dead_code)]
fn main() {
    print_outcome(run(true));
}
