//! Lecture section 3, "세상 단순한 인공 신경망의 구현 (Numpy)": the network in NumPy, with the
//! gradient written by hand.
//!
//! The slide's code, as printed:
//! ```python
//! import numpy as np
//! N, Din, Dout = 64, 4, 2
//! x = np.random.randn(N, Din)
//! y = np.random.randn(N, Dout)
//! w = np.random.randn(Din, Dout)
//! lr = 1e-6
//! for t in range(5000):
//!     y_pred = np.matmul(x, w)
//!     loss = (0.5*(y_pred - y)**2).sum()
//!     grad_y_pred = (y_pred - y)
//!     grad_w = np.matmul(np.transpose(x), grad_y_pred)
//!     w -= lr * grad_w
//! ```
//! Same names (`N`, `Din`, `Dout` in Rust's lower case), sizes, rate and step count.
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
    let (n, din, dout, lr, steps) = (64, 4, 2, 1e-6f32, 5000);
    manual_seed(0);
    let x: Tensor = Tensor::randn(&[n, din]);
    let y: Tensor = Tensor::randn(&[n, dout]);
    let w: Tensor = Tensor::randn(&[din, dout]);

    let mut progress = Progress::new(steps, 1000, verbose);
    for t in 0..steps {
        let y_pred = x.mm(&w); // x.dot(w)
        let diff = &y_pred - &y;
        let loss_value = (0.5 * diff.pow(2.0)).sum().item();
        let grad_w = x.t().mm(&diff); // x.T.dot(grad_y_pred); x.t() is a view, no copy
        w.sub_(&(grad_w * lr)); // w -= lr * grad_w
        progress.record(t, loss_value);
    }
    progress.finish()
}

#[allow(dead_code)]
fn main() {
    print_outcome(run(true));
}
