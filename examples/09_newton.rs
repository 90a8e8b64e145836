//! Beyond the lecture: second derivatives. The least-squares problem of step 3
//! (`02_numpy_style.rs`: `L = ½ Σ (x w − y)²`, 64 samples, 4 → 2) is quadratic in `w`, so one
//! Newton step `w ← w − H⁻¹ ∇L` with its exact Hessian lands on the minimum, which 5000
//! gradient steps at the slide's learning rate only approach.
//!
//! PyTorch would write the Newton step with `torch.autograd.functional`:
//! ```python
//! loss = lambda w: 0.5 * ((x @ w - y) ** 2).sum()
//! H = torch.autograd.functional.hessian(loss, w).reshape(8, 8)
//! g = torch.autograd.grad(loss(w.requires_grad_()), w)[0].reshape(8)
//! w_newton = w - torch.linalg.solve(H, g).reshape(4, 2)
//! ```
//! Here the solve is conjugate gradients on Hessian-vector products (`hvp`), which never
//! forms `H` (eight products suffice for eight unknowns); `hessian` is printed beside it.
//! The normal equations `(xᵀx) w = xᵀy`, solved by hand, give the reference.
//!
//! Then a gradient penalty: the norm of `∂L/∂x` added to the loss (as in WGAN-GP or input
//! gradient regularisation), which needs the gradient of a gradient.
//!
//! Run: `cargo run --release --example 09_newton`

use tapegrad::autograd::{self, functional};
use tapegrad::nn::{functional::mse_loss, Linear, Module};
use tapegrad::optim::{Adam, Optimizer};
use tapegrad::{manual_seed, no_grad, Tensor};

/// What the example computed, for the test that checks it.
pub struct Newton {
    /// The loss at the start, after 5000 gradient steps, after one Newton step, and at the
    /// normal equations' solution.
    pub losses: [f64; 4],
    /// The Newton step's weights and the normal equations' (row-major 4 × 2).
    pub newton: Vec<f64>,
    pub normal: Vec<f64>,
    /// The penalised training's (loss, penalty) before and after.
    pub penalty: [(f64, f64); 2],
}

/// `½ Σ (x w − y)²`.
fn loss(x: &Tensor<f64>, y: &Tensor<f64>, w: &Tensor<f64>) -> Tensor<f64> {
    (0.5 * (x.mm(w) - y).pow(2.0)).sum()
}

/// Solves `H d = g` by conjugate gradients, with `H v` from `hvp` at `w`.
fn conjugate_gradients(
    x: &Tensor<f64>,
    y: &Tensor<f64>,
    w: &Tensor<f64>,
    g: &Tensor<f64>,
) -> Tensor<f64> {
    let h_times = |v: &Tensor<f64>| {
        let (_, hv) = functional::hvp(|p| loss(x, y, &p[0]), &[w], &[v]).expect("a scalar loss");
        hv.into_iter().next().expect("one input")
    };
    let dot = |a: &Tensor<f64>, b: &Tensor<f64>| (a * b).sum().item();
    let mut d = Tensor::zeros(g.shape());
    let mut r = g.clone();
    let mut p = r.clone();
    let mut rr = dot(&r, &r);
    for _ in 0..2 * g.numel() {
        if rr.sqrt() < 1e-14 * dot(g, g).sqrt() {
            break;
        }
        let hp = h_times(&p);
        let alpha = rr / dot(&p, &hp);
        d = &d + &(&p * alpha);
        r = &r - &(&hp * alpha);
        let next = dot(&r, &r);
        p = &r + &(&p * (next / rr));
        rr = next;
    }
    d
}

/// The normal equations `(xᵀx) w = xᵀy`, by Gaussian elimination with partial pivoting.
fn normal_equations(x: &Tensor<f64>, y: &Tensor<f64>) -> Vec<f64> {
    let a = x.t().mm(x).to_vec(); // 4 × 4
    let b = x.t().mm(y).to_vec(); // 4 × 2
    let (n, m) = (x.shape()[1], y.shape()[1]);
    let mut rows: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            a[i * n..(i + 1) * n]
                .iter()
                .chain(&b[i * m..(i + 1) * m])
                .copied()
                .collect()
        })
        .collect();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&i, &j| rows[i][col].abs().total_cmp(&rows[j][col].abs()))
            .expect("a row");
        rows.swap(col, pivot);
        for i in 0..n {
            if i != col {
                let factor = rows[i][col] / rows[col][col];
                let pivot_row = rows[col].clone();
                for (v, p) in rows[i].iter_mut().zip(&pivot_row) {
                    *v -= factor * p;
                }
            }
        }
    }
    (0..n)
        .flat_map(|i| (0..m).map(move |j| (i, j)))
        .map(|(i, j)| rows[i][n + j] / rows[i][i])
        .collect()
}

pub fn run(verbose: bool) -> Newton {
    let (n, din, dout, lr, steps) = (64, 4, 2, 1e-6, 5000);
    manual_seed(0);
    let x = Tensor::<f64>::randn(&[n, din]);
    let y = Tensor::<f64>::randn(&[n, dout]);
    let w0 = Tensor::<f64>::randn(&[din, dout]);
    let start = loss(&x, &y, &w0).item();

    // 5000 steps of the slide's gradient descent, the gradient by autograd.
    let w = w0.detach().requires_grad_(true);
    for _ in 0..steps {
        let l = loss(&x, &y, &w);
        w.clear_grad();
        l.backward();
        no_grad(|| w.sub_(&(w.grad().expect("w has a gradient") * lr)));
    }
    let after_descent = loss(&x, &y, &w).item();

    // One Newton step from the same start: w − H⁻¹ ∇L, H⁻¹ ∇L by conjugate gradients.
    let w_start = w0.detach().requires_grad_(true);
    let g = autograd::grad(&[&loss(&x, &y, &w_start)], &[&w_start], None, false, false)
        .expect("w is used")
        .remove(0);
    let step = conjugate_gradients(&x, &y, &w0, &g);
    let newton = &w0 - &step;
    let after_newton = loss(&x, &y, &newton).item();

    let normal = normal_equations(&x, &y);
    let at_optimum = loss(&x, &y, &Tensor::from_vec(normal.clone(), &[din, dout])).item();

    if verbose {
        let hessian = functional::hessian(|p| loss(&x, &y, &p[0]), &[&w0]).expect("a scalar loss");
        println!("Least squares, ½ Σ (x w − y)², x [{n}, {din}], w [{din}, {dout}] (f64):");
        let rows = [
            ("loss at the start".to_string(), start),
            (
                format!("after {steps} gradient steps (lr {lr:e})"),
                after_descent,
            ),
            (
                "after one Newton step (CG on hvp)".to_string(),
                after_newton,
            ),
            ("at the normal equations' solution".to_string(), at_optimum),
        ];
        for (label, value) in rows {
            println!("  {label:<40} {value:.10}");
        }
        println!(
            "  largest |w_newton − w_normal| = {:.2e}; the Hessian has shape {:?} (8 × 8 flattened)",
            newton.to_vec().iter().zip(&normal).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max),
            hessian[0].shape()
        );
    }

    // A gradient penalty: L + λ ‖∂L/∂x‖², trained with Adam for a few steps.
    let model: Linear<f64> = Linear::new(din, dout);
    let mut optimizer = Adam::new(model.parameters(), 1e-2);
    let lambda = 0.1;
    let mut penalty = [(0.0, 0.0); 2];
    if verbose {
        println!("\nGradient penalty: L = mse(model(x), y) + {lambda} ‖∂L/∂x‖²");
    }
    let penalty_steps = 200;
    for t in 0..penalty_steps {
        let inputs = x.detach().requires_grad_(true);
        let fit = mse_loss(&model.forward(&inputs), &y);
        let dx = autograd::grad(&[&fit], &[&inputs], None, true, true)
            .expect("the loss uses x")
            .remove(0);
        let norm = dx.pow(2.0).sum();
        let total = &fit + &(&norm * lambda);
        optimizer.zero_grad();
        total.backward();
        optimizer.step();
        let now = (fit.item(), norm.item());
        if t == 0 {
            penalty[0] = now;
        }
        penalty[1] = now;
        if verbose && (t % 50 == 0 || t == penalty_steps - 1) {
            println!("  step {t:4}  loss {:.6}  ‖∂L/∂x‖² {:.3e}", now.0, now.1);
        }
    }
    Newton {
        losses: [start, after_descent, after_newton, at_optimum],
        newton: newton.to_vec(),
        normal,
        penalty,
    }
}

#[allow(dead_code)]
fn main() {
    run(true);
}
