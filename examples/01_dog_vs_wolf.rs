//! Lecture step 2: the worked example, by hand and by `backward()`.
//!
//! One animal, four features: ear 0.2, eye 0.3, tongue 0.1, tail 0.9 (the slide's ŷ
//! formula takes them in this order). Two outputs, dog and wolf; the label is a dog,
//! y = (1, 0). Every weight starts at 0.5; ŷ = x·W with W[i][j] the weight from feature i
//! to output j (so w41 and w42 are the tail's weights); L = ½ Σ (ŷ − y)²; lr = 0.01.
//!
//! Every number is computed twice — with the slide's hand-written formula in plain f64,
//! and with tapegrad's autograd — and checked against the other and against the exact
//! decimal values derived by hand below. The slides themselves are not in this
//! repository, so the hand derivation stands in for them:
//!
//! ```text
//! ŷ_dog = ŷ_wolf = 0.5·(0.2 + 0.3 + 0.1 + 0.9) = 0.75
//! L = ½((0.75 − 1)² + (0.75 − 0)²) = ½(0.0625 + 0.5625) = 0.3125
//! ∂L/∂ŷ = ŷ − y = (−0.25, 0.75);   ∂L/∂w_ij = x_i (ŷ_j − y_j)
//! ∂L/∂W = [[−0.05, 0.15], [−0.075, 0.225], [−0.025, 0.075], [−0.225, 0.675]]
//! after W −= 0.01 ∂L/∂W:  ŷ = 0.75 ± 0.01·|x|²·(0.25, 0.75), |x|² = 0.95
//!                         ŷ = (0.752375, 0.742875),  L = 0.306590703125
//! updating only w41, w42: ŷ = 0.75 + 0.9·(0.00225, −0.00675) = (0.752025, 0.743925)
//!                         L = 0.3074580031250
//! ```
//!
//! Run: `cargo run --release --example 01_dog_vs_wolf`

use std::time::Instant;
use tapegrad::{no_grad, Tensor};

const FEATURES: [&str; 4] = ["ear", "eye", "tongue", "tail"];
const X: [f64; 4] = [0.2, 0.3, 0.1, 0.9];
const Y: [f64; 2] = [1.0, 0.0];
const LR: f64 = 0.01;

/// ŷ_j = Σ_i x_i w_ij, the slide's formula.
fn predict_by_hand(w: &[[f64; 2]; 4]) -> [f64; 2] {
    std::array::from_fn(|j| (0..4).map(|i| X[i] * w[i][j]).sum())
}

/// L = ½ Σ_j (ŷ_j − y_j)².
fn loss_by_hand(y_hat: &[f64; 2]) -> f64 {
    0.5 * y_hat
        .iter()
        .zip(Y)
        .map(|(p, t)| (p - t) * (p - t))
        .sum::<f64>()
}

/// ∂L/∂w_ij = x_i (ŷ_j − y_j).
fn gradient_by_hand(y_hat: &[f64; 2]) -> [[f64; 2]; 4] {
    std::array::from_fn(|i| std::array::from_fn(|j| X[i] * (y_hat[j] - Y[j])))
}

struct Autograd {
    x: Tensor<f64>,
    y: Tensor<f64>,
}

impl Autograd {
    fn new() -> Self {
        Autograd {
            x: Tensor::from_vec(X.to_vec(), &[1, 4]),
            y: Tensor::from_vec(Y.to_vec(), &[1, 2]),
        }
    }

    /// (ŷ, L, ∂L/∂W) for weights `w`, through the tape.
    fn forward_backward(&self, w: &[[f64; 2]; 4]) -> (Vec<f64>, f64, Vec<f64>) {
        let w =
            Tensor::from_vec(w.iter().flatten().copied().collect(), &[4, 2]).requires_grad_(true);
        let y_hat = self.x.mm(&w);
        let loss = 0.5 * (&y_hat - &self.y).pow(2.0).sum();
        loss.backward();
        (
            y_hat.to_vec(),
            loss.item(),
            w.grad().expect("w requires grad").to_vec(),
        )
    }

    fn predict(&self, w: &[[f64; 2]; 4]) -> (Vec<f64>, f64) {
        no_grad(|| {
            let w = Tensor::from_vec(w.iter().flatten().copied().collect(), &[4, 2]);
            let y_hat = self.x.mm(&w);
            let loss = 0.5 * (&y_hat - &self.y).pow(2.0).sum();
            (y_hat.to_vec(), loss.item())
        })
    }
}

/// Prints a quantity three ways and checks that they agree.
#[track_caller]
fn show(name: &str, by_hand: &[f64], by_autograd: &[f64], derived: &[f64], verbose: bool) {
    let fmt = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.9}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if verbose {
        println!(
            "{name:<26} formula [{}]\n{:<26} backward [{}]",
            fmt(by_hand),
            "",
            fmt(by_autograd)
        );
    }
    for ((h, a), d) in by_hand.iter().zip(by_autograd).zip(derived) {
        assert!(
            (h - a).abs() < 1e-12,
            "{name}: formula {h} and autograd {a} disagree"
        );
        assert!(
            (h - d).abs() < 1e-12,
            "{name}: computed {h}, derived by hand {d}"
        );
    }
}

/// ŷ and L for weights `w`, by formula and by the tape, checked against the values derived
/// by hand; returns the tape's loss.
#[track_caller]
fn check_prediction(
    tape: &Autograd,
    when: &str,
    w: &[[f64; 2]; 4],
    y_hat: [f64; 2],
    loss: f64,
    verbose: bool,
) -> f64 {
    let by_hand = predict_by_hand(w);
    let (t_y_hat, t_loss) = tape.predict(w);
    show(&format!("{when}: ŷ"), &by_hand, &t_y_hat, &y_hat, verbose);
    show(
        &format!("{when}: L"),
        &[loss_by_hand(&by_hand)],
        &[t_loss],
        &[loss],
        verbose,
    );
    t_loss
}

/// (first loss, final loss, steps, seconds)
pub fn run(verbose: bool) -> (f32, f32, usize, f64) {
    let start = Instant::now();
    let tape = Autograd::new();
    let w0 = [[0.5; 2]; 4];

    if verbose {
        println!(
            "x = {}",
            FEATURES
                .iter()
                .zip(X)
                .map(|(f, v)| format!("{f} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!("W = 0.5 everywhere, y = (dog 1, wolf 0), lr = {LR}\n");
    }
    let y_hat = predict_by_hand(&w0);
    let loss = loss_by_hand(&y_hat);
    let grad = gradient_by_hand(&y_hat);
    let (t_y_hat, t_loss, t_grad) = tape.forward_backward(&w0);
    show("ŷ = x·W", &y_hat, &t_y_hat, &[0.75, 0.75], verbose);
    show("L = ½Σ(ŷ−y)²", &[loss], &[t_loss], &[0.3125], verbose);
    let flat: Vec<f64> = grad.iter().flatten().copied().collect();
    let derived = [-0.05, 0.15, -0.075, 0.225, -0.025, 0.075, -0.225, 0.675];
    show("∂L/∂W (rows ear..tail)", &flat, &t_grad, &derived, verbose);

    // One gradient-descent step on every weight.
    let w1: [[f64; 2]; 4] =
        std::array::from_fn(|i| std::array::from_fn(|j| w0[i][j] - LR * grad[i][j]));
    let t_loss1 = check_prediction(
        &tape,
        "after the step",
        &w1,
        [0.752375, 0.742875],
        0.306590703125,
        verbose,
    );

    // The slide's partial update: only w41 and w42 (the tail's weights) move.
    let mut w_tail = w0;
    w_tail[3][0] -= LR * grad[3][0];
    w_tail[3][1] -= LR * grad[3][1];
    if verbose {
        println!(
            "{:<26} w41 = {:.5}, w42 = {:.5}",
            "only the tail's weights", w_tail[3][0], w_tail[3][1]
        );
    }
    check_prediction(
        &tape,
        "after w41, w42",
        &w_tail,
        [0.752025, 0.743925],
        0.307458003125,
        verbose,
    );
    if verbose {
        println!("\nformula, backward() and the hand derivation agree on every number.");
    }
    (
        loss as f32,
        t_loss1 as f32,
        1,
        start.elapsed().as_secs_f64(),
    )
}

#[allow(dead_code)]
fn main() {
    run(true);
}
