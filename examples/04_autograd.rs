//! Lecture step 4.2: autograd. PyTorch records the forward pass and `backward()` computes
//! the gradient; the update runs under `no_grad` and the gradient is zeroed by hand.
//!
//! The slide:
//! ```python
//! x = torch.randn(N, D_in); y = torch.randn(N, D_out)
//! w = torch.randn(D_in, D_out, requires_grad=True)
//! for t in range(500):
//!     y_pred = x.mm(w)
//!     loss = (0.5 * (y_pred - y).pow(2)).sum()
//!     loss.backward()
//!     with torch.no_grad():
//!         w -= learning_rate * w.grad
//!         w.grad.zero_()
//! ```
//!
//! Run: `cargo run --release --example 04_autograd` (also writes `target/lecture_loss.dot`,
//! the graph of one step's loss; render it with `dot -Tpng`).

use std::time::Instant;
use tapegrad::{manual_seed, no_grad, Tensor};

/// (first loss, final loss, steps, seconds)
pub fn run(verbose: bool) -> (f32, f32, usize, f64) {
    let (n, d_in, d_out, learning_rate, steps) = (64, 4, 2, 1e-6f32, 500);
    manual_seed(0);
    let x: Tensor = Tensor::randn(&[n, d_in]);
    let y: Tensor = Tensor::randn(&[n, d_out]);
    let w: Tensor = Tensor::randn(&[d_in, d_out]).requires_grad_(true);

    let mut first = None;
    let mut loss_value = f32::NAN;
    let start = Instant::now();
    for t in 0..steps {
        let y_pred = x.mm(&w);
        let loss = (0.5 * (&y_pred - &y).pow(2.0)).sum();
        if verbose && t == 0 {
            let path = std::path::Path::new("target").join("lecture_loss.dot");
            if std::fs::write(&path, loss.to_dot()).is_ok() {
                println!(
                    "graph of the loss written to {}:\n{}",
                    path.display(),
                    loss.to_dot()
                );
            }
        }
        loss.backward();
        loss_value = loss.item();
        no_grad(|| {
            let grad = w.grad().expect("backward reached w");
            w.sub_(&(learning_rate * grad)); // w -= learning_rate * w.grad
        });
        w.zero_grad(); // w.grad.zero_()
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
