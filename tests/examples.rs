//! The lecture's examples run (and check their own numbers) as part of the test suite.

// Each lecture example is a program of its own, so each brings its own copy of
// examples/support/progress.rs; included together here, those copies are expected.
#![allow(clippy::duplicate_mod)]

#[path = "../examples/01_dog_vs_wolf.rs"]
#[allow(dead_code)]
mod dog_vs_wolf;

#[path = "../examples/03_torch_manual.rs"]
#[allow(dead_code)]
mod torch_manual;

#[path = "../examples/04_autograd.rs"]
#[allow(dead_code)]
mod autograd_step;

#[path = "../examples/05_nn.rs"]
#[allow(dead_code)]
mod nn_step;

#[path = "../examples/06_optim.rs"]
#[allow(dead_code)]
mod optim_step;

#[path = "../examples/07_custom_module.rs"]
#[allow(dead_code)]
mod custom_module;

#[path = "../examples/dog_vs_wolf_classifier.rs"]
#[allow(dead_code)]
mod classifier;

#[path = "../examples/digits_cnn.rs"]
#[allow(dead_code)]
mod digits_cnn;

#[path = "support/generator.rs"]
mod generator;
use generator::take_turn;

#[test]
fn worked_example_agrees_with_the_hand_derivation() {
    let _turn = take_turn();
    // Asserts inside: formula, backward() and the hand-derived decimals agree.
    let (first, after_step, _, _) = dog_vs_wolf::run(false);
    assert_eq!((first, after_step), (0.3125, 0.307_458));
}

#[test]
fn the_slides_numbers_are_right_or_corrected() {
    // Each number lecture section 2 prints, checked by hand against the slide text
    // (../shared/lecture): the first ten are right, the last eight wrong.
    let e = dog_vs_wolf::worked_example(false);
    let numbers = dog_vs_wolf::slide_numbers(&e);
    let (right, wrong): (Vec<_>, Vec<_>) = numbers.iter().partition(|s| s.agrees());
    assert_eq!(right.len(), 10, "{right:?}");
    assert_eq!(
        wrong.iter().map(|s| s.what).collect::<Vec<_>>(),
        [
            "∂L/∂w42",
            "w41 − lr·∂L/∂w41",
            "w42 − lr·∂L/∂w42",
            "ŷ1 again",
            "ŷ2 again",
            "|ŷ1 − y1| again",
            "|ŷ2 − y2| again",
            "L again",
        ]
    );
    for s in &right {
        // Right: the slide's value is tapegrad's, rounded to the digits it prints.
        let scale = 10f64.powi(s.digits);
        assert_eq!(s.slide, (s.computed * scale).round() / scale, "{s:?}");
        assert!(s.why.is_none(), "{s:?}");
    }
    for s in &wrong {
        // Wrong: it differs by more than the rounding, and the example says why.
        assert!((s.slide - s.computed).abs() > 0.5 * 10f64.powi(-s.digits));
        assert!(s.why.is_some_and(|w| !w.is_empty()), "{s:?}");
    }
    // The correct values, derived by hand (examples/01_dog_vs_wolf.rs' header).
    let computed: Vec<f64> = wrong.iter().map(|s| s.computed).collect();
    let by_hand = [
        0.675,
        0.50225,
        0.49325,
        0.752025,
        0.743925,
        0.247975,
        0.743925,
        0.307458003125,
    ];
    for (c, h) in computed.iter().zip(by_hand) {
        assert!((c - h).abs() < 1e-12, "{c} vs {h}");
    }
}

#[test]
fn manual_and_autograd_steps_follow_the_same_trajectory() {
    let _turn = take_turn();
    // Step 4.1 computes the gradient by hand, step 4.2 by backward(): the same 500 steps
    // from the same seed must give the same losses.
    let (manual_first, manual_last, steps, _) = torch_manual::run(false);
    let (auto_first, auto_last, auto_steps, _) = autograd_step::run(false);
    assert_eq!((steps, manual_first), (auto_steps, auto_first));
    assert!(
        (manual_last - auto_last).abs() <= 1e-5 * manual_last,
        "{manual_last} vs {auto_last}"
    );
    assert!(auto_last < auto_first);
}

/// The least-squares optimum of `mean((x W^T + b - y)^2)` for the examples' data, from the
/// normal equations solved in f64: a number computed without autograd or optimizers.
#[allow(clippy::needless_range_loop)] // index loops read like the algebra they do
fn least_squares_loss() -> f64 {
    tapegrad::manual_seed(0);
    let x = tapegrad::Tensor::<f32>::randn(&[64, 4]).to_vec();
    let y = tapegrad::Tensor::<f32>::randn(&[64, 2]).to_vec();
    let row = |i: usize| {
        [
            x[i * 4] as f64,
            x[i * 4 + 1] as f64,
            x[i * 4 + 2] as f64,
            x[i * 4 + 3] as f64,
            1.0,
        ]
    };
    let mut total = 0.0;
    for out in 0..2 {
        // A^T A c = A^T y, with A = [x, 1], by Gaussian elimination.
        let mut m = [[0.0f64; 6]; 5];
        for i in 0..64 {
            let a = row(i);
            for r in 0..5 {
                for c in 0..5 {
                    m[r][c] += a[r] * a[c];
                }
                m[r][5] += a[r] * y[i * 2 + out] as f64;
            }
        }
        for p in 0..5 {
            for r in p + 1..5 {
                let f = m[r][p] / m[p][p];
                for c in p..6 {
                    m[r][c] -= f * m[p][c];
                }
            }
        }
        let mut coef = [0.0f64; 5];
        for p in (0..5).rev() {
            let tail: f64 = (p + 1..5).map(|c| m[p][c] * coef[c]).sum();
            coef[p] = (m[p][5] - tail) / m[p][p];
        }
        for i in 0..64 {
            let a = row(i);
            let pred: f64 = (0..5).map(|c| a[c] * coef[c]).sum();
            total += (pred - y[i * 2 + out] as f64).powi(2);
        }
    }
    total / 128.0
}

#[test]
fn nn_optim_and_custom_module_steps_reach_the_least_squares_fit() {
    let _turn = take_turn();
    // Steps 4.3-4.5 fit the same linear model by different means; after 500 steps each is
    // at the least-squares optimum, which the normal equations give independently.
    let optimum = least_squares_loss();
    for (name, (first, last, steps, _)) in [
        ("05_nn", nn_step::run(false)),
        ("06_optim Adam", optim_step::run(false)),
        ("06_optim SGD", optim_step::run_sgd(false)),
        ("07_custom_module", custom_module::run(false)),
    ] {
        assert_eq!(steps, 500, "{name}");
        assert!(first > last, "{name}: {first} -> {last}");
        assert!(
            (last as f64 - optimum).abs() < 1e-3,
            "{name}: final loss {last}, optimum {optimum}"
        );
    }
}

#[test]
fn the_classifier_tells_dogs_from_wolves_and_survives_a_save_and_reload() {
    let _turn = take_turn();
    // The reload check is an assert inside train(). With σ = 0.35 noise the best possible
    // accuracy is about 94% (the classes' centres are 1.12 apart: Φ(1.12 / 0.7) ≈ 0.945).
    let ((first, last, steps, _), accuracy) = classifier::train(false);
    assert_eq!(steps, 30 * 25);
    assert!(last < first * 0.5, "{first} -> {last}");
    assert!(accuracy > 0.88, "test accuracy {accuracy}");
}

#[path = "../examples/09_newton.rs"]
#[allow(dead_code)]
mod newton;

#[test]
fn one_newton_step_lands_on_the_normal_equations_solution() {
    let out = newton::run(false);
    let [start, descent, after_newton, optimum] = out.losses;
    for (a, b) in out.newton.iter().zip(&out.normal) {
        assert!((a - b).abs() < 1e-10, "Newton {a} vs normal equations {b}");
    }
    assert!((after_newton - optimum).abs() < 1e-10 * optimum);
    // 5000 gradient steps at the slide's rate only approach the optimum.
    assert!(
        descent < start && descent > optimum + 1.0,
        "{descent} vs {optimum}"
    );
    // The penalised training lowers the loss.
    let [(loss_before, _), (loss_after, penalty_after)] = out.penalty;
    assert!(loss_after < loss_before && penalty_after.is_finite());
}

#[test]
fn the_digits_cnn_reaches_98_percent_on_held_out_images() {
    let _turn = take_turn();
    let svg = std::env::temp_dir().join(format!("tapegrad-digits-{}.svg", std::process::id()));
    let report = digits_cnn::run(false, Some(&svg));
    let accuracy = *report.test_accuracy.last().unwrap();
    assert!(accuracy >= 0.98, "test accuracy {accuracy}");
    assert_eq!(report.train_loss.len(), digits_cnn::EPOCHS);
    assert!(report.train_loss.last() < report.train_loss.first());
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert!(picture.starts_with("<svg") && picture.contains("test accuracy"));
    std::fs::remove_file(&svg).ok();
}
