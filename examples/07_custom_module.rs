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

use std::time::Instant;
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

/// (first loss, final loss, steps, seconds)
pub fn run(verbose: bool) -> (f32, f32, usize, f64) {
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

    let mut first = None;
    let mut loss_value = f32::NAN;
    let start = Instant::now();
    for t in 0..steps {
        let y_pred = model.forward(&x);
        let loss = mse_loss(&y_pred, &y);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        loss_value = loss.item();
        first.get_or_insert(loss_value);
        if verbose && (t % 100 == 0 || t == steps - 1) {
            println!("step {t:4}  loss {loss_value:.6}");
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    (first.unwrap_or(f32::NAN), loss_value, steps, seconds)
}

#[allow(dead_code)]
fn main() {
    let (first, last, steps, seconds) = run(true);
    println!(
        "loss {first:.4} -> {last:.4} in {steps} steps, {:.3} µs/step",
        seconds / steps as f64 * 1e6
    );
}
