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

#[path = "support/progress.rs"]
#[allow(dead_code)]
mod progress;

use progress::{print_outcome, Outcome, Progress};
use tapegrad::{manual_seed, Tensor};

pub fn run(verbose: bool) -> Outcome {
    let (n, d_in, d_out, learning_rate, steps) = (64, 4, 2, 1e-6f32, 5000);
    manual_seed(0);
    let x: Tensor = Tensor::randn(&[n, d_in]);
    let y: Tensor = Tensor::randn(&[n, d_out]);
    let w: Tensor = Tensor::randn(&[d_in, d_out]);

    let mut progress = Progress::new(steps, 1000, verbose);
    for t in 0..steps {
        let y_pred = x.mm(&w); // x.dot(w)
        let diff = &y_pred - &y;
        let loss_value = (0.5 * diff.pow(2.0)).sum().item();
        let grad_w = x.t().mm(&diff); // x.T.dot(grad_y_pred); x.t() is a view, no copy
        w.sub_(&(grad_w * learning_rate)); // w -= learning_rate * grad_w
        progress.record(t, loss_value);
    }
    progress.finish()
}

#[allow(dead_code)]
fn main() {
    print_outcome(run(true));
}
