//! Lecture section 4, slide "세상 단순한 인공 신경망 (5)": a module of your own. A struct, its
//! `forward`, and one place that names its parameters: the same three things a PyTorch
//! `nn.Module` subclass has.
//!
//! The slide's code, as printed:
//! ```python
//! import torch
//! class MyOneLayerNet(torch.nn.Module):
//!     def __init__(self, Din, Dout):
//!         super(MyOneLayerNet, self).__init__()
//!         self.linear = torch.nn.Linear(Din, Dout)
//!     def forward(self, x):
//!         y_pred = self.linear(x)
//!         return y_pred
//! N, Din, Dout = 64, 4, 2
//! x = torch.randn(N, Din, device=device)
//! y = torch.randn(N, Dout, device=device)
//! model = MyOneLayerNet(Din, Dout)
//! optimizer = torch.optim.Adam(model.parameters(), lr=1e-6)
//! for t in range(500):
//!     y_pred = model(x)
//!     loss = torch.nn.functional.mse_loss(y_pred, y)
//!     loss.backward()
//!     optimizer.step()
//!     optimizer.zero_grad()
//! ```
//! As in `06_optim`, the rate is 1e-2 rather than the slide's 1e-6, which Adam would turn
//! into at most 5e-4 of movement per weight in 500 steps.
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
    /// `MyOneLayerNet(Din, Dout)`.
    pub fn new(din: usize, dout: usize) -> Self {
        MyOneLayerNet {
            linear: Linear::new(din, dout),
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
    let (n, din, dout, lr, steps) = (64, 4, 2, 1e-2f32, 500);
    manual_seed(0);
    let x: Tensor = Tensor::randn(&[n, din]);
    let y: Tensor = Tensor::randn(&[n, dout]);
    let model = MyOneLayerNet::new(din, dout);
    if verbose {
        for (name, p) in model.named_parameters() {
            println!("parameter {name}: {:?}", p.shape());
        }
    }
    let mut optimizer = Adam::new(model.parameters(), lr);

    let mut progress = Progress::new(steps, 100, verbose);
    for t in 0..steps {
        let y_pred = model.forward(&x);
        let loss = mse_loss(&y_pred, &y);
        loss.backward();
        optimizer.step();
        optimizer.zero_grad(); // the slide's order: backward, step, zero_grad
        let loss_value = loss.item();
        progress.record(t, loss_value);
    }
    progress.finish()
}

#[allow(dead_code)]
fn main() {
    print_outcome(run(true));
}
