//! Lecture step 4.1: the same network with PyTorch tensors on a device, gradient still
//! written by hand.
//!
//! The slide:
//! ```python
//! device = torch.device('cpu')
//! x = torch.randn(N, D_in, device=device); y = torch.randn(N, D_out, device=device)
//! w = torch.randn(D_in, D_out, device=device)
//! for t in range(500):
//!     y_pred = x.mm(w)
//!     loss = (0.5 * (y_pred - y).pow(2)).sum()
//!     grad_y_pred = y_pred - y
//!     grad_w = x.t().mm(grad_y_pred)
//!     w -= learning_rate * grad_w
//! ```
//! `Device::Cpu` stands where `torch.device('cpu')` does; `.to_device` is `.to(device)`.
//!
//! Run: `cargo run --release --example 03_torch_manual`

use std::time::Instant;
use tapegrad::{manual_seed, Device, Tensor};

/// (first loss, final loss, steps, seconds)
pub fn run(verbose: bool) -> (f32, f32, usize, f64) {
    let (n, d_in, d_out, learning_rate, steps) = (64, 4, 2, 1e-6f32, 500);
    let device = Device::Cpu;
    manual_seed(0);
    let x: Tensor = Tensor::randn(&[n, d_in]).to_device(device);
    let y: Tensor = Tensor::randn(&[n, d_out]).to_device(device);
    let w: Tensor = Tensor::randn(&[d_in, d_out]).to_device(device);

    let mut first = None;
    let mut loss_value = f32::NAN;
    let start = Instant::now();
    for t in 0..steps {
        let y_pred = x.mm(&w);
        let grad_y_pred = &y_pred - &y;
        loss_value = (0.5 * grad_y_pred.pow(2.0)).sum().item();
        let grad_w = x.t().mm(&grad_y_pred);
        w.sub_(&(learning_rate * grad_w));
        first.get_or_insert(loss_value);
        if verbose && (t % 100 == 0 || t == steps - 1) {
            println!("step {t:4}  loss {loss_value:.6}");
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    if verbose {
        println!("w on {}: {w}", w.device());
    }
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
