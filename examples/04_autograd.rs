//! Lecture section 4, slide "세상 단순한 인공 신경망 (2)": autograd. PyTorch records the
//! forward pass and `backward()` computes the gradient; the update runs under `no_grad`
//! and the gradient is zeroed by hand.
//!
//! The slide's code, as printed:
//! ```python
//! import torch
//! N, Din, Dout = 64, 4, 2
//! x = torch.randn(N, Din, device=device)
//! y = torch.randn(N, Dout, device=device)
//! w = torch.randn(Din, Dout, device=device, requires_grad=True)
//! lr = 1e-6
//! for t in range(500):
//!     y_pred = x.mm(w)
//!     loss = 0.5*(y_pred - y).pow(2).sum()
//!     loss.backward()
//!     with torch.no_grad():
//!         w -= lr * w.grad
//!         w.grad.zero_()
//! ```
//!
//! Run: `cargo run --release --example 04_autograd` (also writes `tapegrad_lecture_loss.dot`
//! in the system's temporary directory, the graph of one step's loss, and prints where;
//! render it with `dot -Tpng`).

#[path = "support/progress.rs"]
#[allow(dead_code)]
mod progress;

use progress::{print_outcome, Outcome, Progress};
use tapegrad::{manual_seed, no_grad, Tensor};

pub fn run(verbose: bool) -> Outcome {
    let (n, din, dout, lr, steps) = (64, 4, 2, 1e-6f32, 500);
    manual_seed(0);
    let x: Tensor = Tensor::randn(&[n, din]);
    let y: Tensor = Tensor::randn(&[n, dout]);
    let w: Tensor = Tensor::randn(&[din, dout]).requires_grad_(true);

    let mut progress = Progress::new(steps, 100, verbose);
    for t in 0..steps {
        let y_pred = x.mm(&w);
        let loss = (0.5 * (&y_pred - &y).pow(2.0)).sum();
        if verbose && t == 0 {
            // The system's temporary directory always exists (`target/` need not, with
            // CARGO_TARGET_DIR set elsewhere).
            let path = std::env::temp_dir().join("tapegrad_lecture_loss.dot");
            match std::fs::write(&path, loss.to_dot()) {
                Ok(()) => println!(
                    "graph of the loss written to {} (render: dot -Tpng {} -o loss.png):\n{}",
                    path.display(),
                    path.display(),
                    loss.to_dot()
                ),
                Err(e) => println!("could not write {}: {e}", path.display()),
            }
        }
        loss.backward();
        let loss_value = loss.item();
        no_grad(|| {
            let grad = w.grad().expect("backward reached w");
            w.sub_(&(lr * grad)); // w -= lr * w.grad
        });
        w.zero_grad(); // w.grad.zero_()
        progress.record(t, loss_value);
    }
    progress.finish()
}

#[allow(dead_code)]
fn main() {
    print_outcome(run(true));
}
