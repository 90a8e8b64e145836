//! Lecture section 4, slide "세상 단순한 인공 신경망 (1)": the same network with PyTorch
//! tensors on a device, the gradient still written by hand.
//!
//! The slide's code, as printed:
//! ```python
//! import torch
//! device = torch.device('cpu')
//! N, Din, Dout = 64, 4, 2
//! x = torch.randn(N, Din, device=device)
//! y = torch.randn(N, Dout, device=device)
//! w = torch.randn(Din, Dout, device=device)
//! lr = 1e-6
//! for t in range(500):
//!     y_pred = x.mm(w)
//!     loss = 0.5*(y_pred - y).pow(2).sum()
//!     grad_y_pred = (y_pred - y)
//!     grad_w = x.t().mm(grad_y_pred)
//!     w -= lr * grad_w
//! ```
//! `Device::Cpu` stands where `torch.device('cpu')` does; `.to_device` is `.to(device)`.
//!
//! Run: `cargo run --release --example 03_torch_manual`

#[path = "support/progress.rs"]
#[allow(dead_code)]
mod progress;

use progress::{print_outcome, Outcome, Progress};
use tapegrad::{manual_seed, Device, Tensor};

pub fn run(verbose: bool) -> Outcome {
    let (n, din, dout, lr, steps) = (64, 4, 2, 1e-6f32, 500);
    let device = Device::Cpu;
    manual_seed(0);
    let x: Tensor = Tensor::randn(&[n, din]).to_device(device);
    let y: Tensor = Tensor::randn(&[n, dout]).to_device(device);
    let w: Tensor = Tensor::randn(&[din, dout]).to_device(device);

    let mut progress = Progress::new(steps, 100, verbose);
    for t in 0..steps {
        let y_pred = x.mm(&w);
        let grad_y_pred = &y_pred - &y;
        let loss_value = (0.5 * grad_y_pred.pow(2.0)).sum().item();
        let grad_w = x.t().mm(&grad_y_pred);
        w.sub_(&(lr * grad_w));
        progress.record(t, loss_value);
    }
    let outcome = progress.finish();
    if verbose {
        println!("w on {}: {w}", w.device());
    }
    outcome
}

#[allow(dead_code)]
fn main() {
    print_outcome(run(true));
}
