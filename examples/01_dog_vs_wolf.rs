//! Lecture section 2, "세상 단순한 인공 신경망의 구현 (이론)": the worked example, by hand and
//! by `backward()`, with the slides' own numbers printed beside the right ones.
//!
//! One animal, four features: ear 0.2, eye 0.3, tongue 0.1, tail 0.9 (the slide's ŷ
//! formula takes them in this order). Two outputs, dog and wolf; the label is a dog,
//! y = (1, 0). Every weight starts at 0.5; ŷ = x·W with W[i][j] = w_ij the weight from
//! feature i to output j (so w41 and w42 are the tail's weights); L = ½ Σ (ŷ − y)²;
//! lr = 0.01.
//!
//! Every number is computed twice, with the slide's formula in plain f64 and with
//! tapegrad's autograd, and checked against the other and against the exact decimals
//! derived by hand:
//!
//! ```text
//! ŷ1 = ŷ2 = 0.5·(0.2 + 0.3 + 0.1 + 0.9) = 0.75
//! L = ½((0.75 − 1)² + (0.75 − 0)²) = ½(0.0625 + 0.5625) = 0.3125
//! ∂L/∂ŷ = ŷ − y = (−0.25, 0.75);   ∂L/∂w_ij = x_i (ŷ_j − y_j)
//! ∂L/∂W = [[−0.05, 0.15], [−0.075, 0.225], [−0.025, 0.075], [−0.225, 0.675]]
//! the slides' step, only w41 and w42:  w41 = 0.5 + 0.01·0.225 = 0.50225
//!                                      w42 = 0.5 − 0.01·0.675 = 0.49325
//!     ŷ = 0.75 + 0.9·(0.00225, −0.00675) = (0.752025, 0.743925),  L = 0.307458003125
//! a step on all of W: ŷ = 0.75 ± 0.01·|x|²·(0.25, 0.75), |x|² = 0.95
//!     ŷ = (0.752375, 0.742875),  L = 0.306590703125
//! ```
//!
//! The slides get four steps of this arithmetic wrong, and every number after them carries
//! the error. The program prints each number the slides print, the right value beside it,
//! and for each one that differs, which arithmetic on the slide went wrong. `tests/examples.rs`
//! checks the list: where a slide is right its value is the computed one rounded to the
//! digits it prints, and where it is wrong it is not.
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
/// by hand; returns the tape's (ŷ, L).
#[track_caller]
fn check_prediction(
    tape: &Autograd,
    when: &str,
    w: &[[f64; 2]; 4],
    y_hat: [f64; 2],
    loss: f64,
    verbose: bool,
) -> (Vec<f64>, f64) {
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
    (t_y_hat, t_loss)
}

/// One number the slides print in the worked example, and tapegrad's value for it.
#[derive(Clone, Debug)]
pub struct SlideNumber {
    /// What the slide computes there, in the slide's notation.
    pub what: &'static str,
    /// The value as the slide prints it.
    pub slide: f64,
    /// How many digits the slide prints after the decimal point.
    pub digits: i32,
    /// tapegrad's value (autograd, f64).
    pub computed: f64,
    /// Where the slide is wrong: which arithmetic went wrong, in one line.
    pub why: Option<&'static str>,
}

impl SlideNumber {
    /// The slide is right when its value is the computed one rounded to the digits it
    /// prints (a tiny allowance covers binary fractions such as 0.49375).
    pub fn agrees(&self) -> bool {
        (self.slide - self.computed).abs() <= 0.5 * 10f64.powi(-self.digits) + 1e-12
    }
}

/// Everything the worked example computes, by tapegrad's tape.
pub struct WorkedExample {
    /// ŷ, L and ∂L/∂W at W = 0.5 everywhere.
    pub y_hat: Vec<f64>,
    pub loss: f64,
    pub grad: Vec<f64>,
    /// The slides' step: only w41 and w42 move. Their new values, then ŷ and L.
    pub w41: f64,
    pub w42: f64,
    pub y_hat_tail: Vec<f64>,
    pub loss_tail: f64,
    /// A step on every weight: ŷ and L.
    pub y_hat_all: Vec<f64>,
    pub loss_all: f64,
}

/// Computes the worked example twice (formula and tape) and checks both against the hand
/// derivation (panics if any disagree).
pub fn worked_example(verbose: bool) -> WorkedExample {
    let tape = Autograd::new();
    let w0 = [[0.5; 2]; 4];
    let y_hat = predict_by_hand(&w0);
    let loss = loss_by_hand(&y_hat);
    let grad = gradient_by_hand(&y_hat);
    let (t_y_hat, t_loss, t_grad) = tape.forward_backward(&w0);
    show("ŷ = x·W", &y_hat, &t_y_hat, &[0.75, 0.75], verbose);
    show("L = ½Σ(ŷ−y)²", &[loss], &[t_loss], &[0.3125], verbose);
    let flat: Vec<f64> = grad.iter().flatten().copied().collect();
    let derived = [-0.05, 0.15, -0.075, 0.225, -0.025, 0.075, -0.225, 0.675];
    show("∂L/∂W (rows ear..tail)", &flat, &t_grad, &derived, verbose);

    // The slides' step: only w41 and w42 (the tail's weights) move, by the tape's gradient.
    let mut w_tail = w0;
    w_tail[3][0] -= LR * t_grad[6];
    w_tail[3][1] -= LR * t_grad[7];
    if verbose {
        println!(
            "{:<26} w41 = {:.5}, w42 = {:.5}",
            "only the tail's weights", w_tail[3][0], w_tail[3][1]
        );
    }
    let (y_hat_tail, loss_tail) = check_prediction(
        &tape,
        "after w41, w42",
        &w_tail,
        [0.752025, 0.743925],
        0.307458003125,
        verbose,
    );

    // One gradient-descent step on every weight.
    let w1: [[f64; 2]; 4] =
        std::array::from_fn(|i| std::array::from_fn(|j| w0[i][j] - LR * t_grad[2 * i + j]));
    let (y_hat_all, loss_all) = check_prediction(
        &tape,
        "after a step on all of W",
        &w1,
        [0.752375, 0.742875],
        0.306590703125,
        verbose,
    );
    WorkedExample {
        y_hat: t_y_hat,
        loss: t_loss,
        grad: t_grad,
        w41: w_tail[3][0],
        w42: w_tail[3][1],
        y_hat_tail,
        loss_tail,
        y_hat_all,
        loss_all,
    }
}

/// Every number the lecture's section 2 prints, in the order the slides print them, with
/// tapegrad's value beside it.
pub fn slide_numbers(e: &WorkedExample) -> Vec<SlideNumber> {
    let n = |what, slide, digits, computed, why| SlideNumber {
        what,
        slide,
        digits,
        computed,
        why,
    };
    // x_i · w_i1 at W = 0.5, the terms the slides write out inside ∂L/∂w41 and ∂L/∂w42.
    let term = |i: usize| X[i] * 0.5;
    vec![
        n("ŷ1 = Σ x_i·w_i1", 0.75, 2, e.y_hat[0], None),
        n("ŷ2 = Σ x_i·w_i2", 0.75, 2, e.y_hat[1], None),
        n("|ŷ1 − y1| in L", 0.25, 2, (e.y_hat[0] - Y[0]).abs(), None),
        n("|ŷ2 − y2| in L", 0.75, 2, (e.y_hat[1] - Y[1]).abs(), None),
        n("L", 0.3125, 4, e.loss, None),
        n("x1·w11 in ∂L/∂w41", 0.1, 1, term(0), None),
        n("x2·w21 in ∂L/∂w41", 0.15, 2, term(1), None),
        n("x3·w31 in ∂L/∂w41", 0.05, 2, term(2), None),
        n("x4·w41 in ∂L/∂w41", 0.45, 2, term(3), None),
        n("∂L/∂w41", -0.225, 3, e.grad[6], None),
        n(
            "∂L/∂w42",
            0.625,
            3,
            e.grad[7],
            Some("0.9 × (0.75 − 0.0) is 0.675; the slide wrote 0.625"),
        ),
        n(
            "w41 − lr·∂L/∂w41",
            0.5025,
            4,
            e.w41,
            Some("0.01 × 0.225 is 0.00225, not 0.0025: 0.5 + 0.00225 = 0.50225"),
        ),
        n(
            "w42 − lr·∂L/∂w42",
            0.4938,
            4,
            e.w42,
            Some("carries the slide's 0.625: 0.5 − 0.00625 = 0.49375; with 0.675, 0.49325"),
        ),
        n(
            "ŷ1 again",
            0.75225,
            5,
            e.y_hat_tail[0],
            Some("carries the slide's w41 = 0.5025 (0.9 × 0.50225 = 0.452025, not 0.45225)"),
        ),
        n(
            "ŷ2 again",
            0.74442,
            5,
            e.y_hat_tail[1],
            Some("carries the slide's w42 = 0.4938 (0.9 × 0.49325 = 0.443925, not 0.44442)"),
        ),
        n(
            "|ŷ1 − y1| again",
            0.24775,
            5,
            (e.y_hat_tail[0] - Y[0]).abs(),
            Some("1 − ŷ1 with the slide's ŷ1 = 0.75225"),
        ),
        n(
            "|ŷ2 − y2| again",
            0.74442,
            5,
            (e.y_hat_tail[1] - Y[1]).abs(),
            Some("the slide's ŷ2 = 0.74442"),
        ),
        n(
            "L again",
            0.3078,
            4,
            e.loss_tail,
            Some("½(0.24775² + 0.74442²) is 0.3078, but from the slide's wrong ŷ; the true ŷ give 0.3075"),
        ),
    ]
}

/// Prints the slides' numbers beside tapegrad's, marking each one that differs.
pub fn print_slide_numbers(numbers: &[SlideNumber]) {
    println!("\nThe numbers on the slides (lecture section 2) beside tapegrad's:\n");
    println!(
        "| {:<20} | {:>8} | {:>14} |    | why the slide differs",
        "on the slide", "slide", "tapegrad"
    );
    println!("|{:-<22}|{:->10}|{:->16}|----|{:-<22}", "", "", "", "");
    for s in numbers {
        let digits = s.digits as usize;
        let (mark, why) = if s.agrees() {
            ("ok", "")
        } else {
            ("✗", s.why.unwrap_or("(no reason given)"))
        };
        println!(
            "| {:<20} | {:>8.digits$} | {:>14} | {mark:<2} | {why}",
            s.what,
            s.slide,
            format!("{:.9}", s.computed)
                .trim_end_matches('0')
                .trim_end_matches('.'),
        );
    }
    println!(
        "\nThe slides' notation slips too: the expanded L writes w12·x1 + w12·x2 + w13·x3 + w14·x4 \
         for w12·x1 + w22·x2 + w32·x3 + w42·x4,\nand the list of partials names ∂L/∂w13, w14, \
         w23, w24, which a 4×2 W does not have (w_ij: feature i, output j)."
    );
}

/// (first loss, the loss after the slides' step on w41 and w42, steps, seconds)
pub fn run(verbose: bool) -> (f32, f32, usize, f64) {
    let start = Instant::now();
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
    let e = worked_example(verbose);
    if verbose {
        println!("\nformula, backward() and the hand derivation agree on every number.");
        print_slide_numbers(&slide_numbers(&e));
    }
    (
        e.loss as f32,
        e.loss_tail as f32,
        1,
        start.elapsed().as_secs_f64(),
    )
}

#[allow(dead_code)]
fn main() {
    run(true);
}
