//! The lecture's examples run (and check their own numbers) as part of the test suite.

#[path = "../examples/01_dog_vs_wolf.rs"]
#[allow(dead_code)]
mod dog_vs_wolf;

#[path = "../examples/03_torch_manual.rs"]
#[allow(dead_code)]
mod torch_manual;

#[path = "../examples/04_autograd.rs"]
#[allow(dead_code)]
mod autograd_step;

#[test]
fn worked_example_agrees_with_the_hand_derivation() {
    // Asserts inside: formula, backward() and the hand-derived decimals agree.
    let (first, after_step, _, _) = dog_vs_wolf::run(false);
    assert_eq!((first, after_step), (0.3125, 0.306_590_7));
}

#[test]
fn manual_and_autograd_steps_follow_the_same_trajectory() {
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
