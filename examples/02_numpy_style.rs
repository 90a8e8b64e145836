//! Lecture step 3: the network in NumPy, with the gradient written by hand.
//!
//! The slide:
//! ```python
//! N, D_in, D_out = 64, 4, 2
//! x = np.random.randn(N, D_in); y = np.random.randn(N, D_out); w = np.random.randn(D_in, D_out)
//! learning_rate = 1e-6
//! for t in range(5000):
//!     y_pred = x.dot(w)                         # forward: one linear layer
//!     loss = (0.5 * (y_pred - y) ** 2).sum()    # L = ½ Σ (ŷ − y)²
//!     grad_y_pred = y_pred - y                  # ∂L/∂ŷ
//!     grad_w = x.T.dot(grad_y_pred)             # ∂L/∂w = xᵀ ∂L/∂ŷ
//!     w -= learning_rate * grad_w
//! ```
//! tapegrad's tensors play NumPy's arrays here: no autograd is involved (nothing requires
//! grad, so nothing is recorded).
//!
//! Run: `cargo run --release --example 02_numpy_style`

use std::time::Instant;
use tapegrad::{manual_seed, Tensor};

/// (first loss, final loss, steps, seconds)
pub fn run(verbose: bool) -> (f32, f32, usize, f64) {
    let (n, d_in, d_out, learning_rate, steps) = (64, 4, 2, 1e-6f32, 5000);
    manual_seed(0);
    let x: Tensor = Tensor::randn(&[n, d_in]);
    let y: Tensor = Tensor::randn(&[n, d_out]);
    let w: Tensor = Tensor::randn(&[d_in, d_out]);

    let mut first = None;
    let mut loss_value = f32::NAN;
    let start = Instant::now();
    for t in 0..steps {
        let y_pred = x.mm(&w); // x.dot(w)
        let diff = &y_pred - &y;
        loss_value = (0.5 * diff.pow(2.0)).sum().item();
        let grad_w = x.t().mm(&diff); // x.T.dot(grad_y_pred); x.t() is a view, no copy
        w.sub_(&(grad_w * learning_rate)); // w -= learning_rate * grad_w
        first.get_or_insert(loss_value);
        if verbose && (t % 1000 == 0 || t == steps - 1) {
            println!("step {t:5}  loss {loss_value:.6}");
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
