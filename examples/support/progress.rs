//! What every lecture example keeps while it trains: the first and the last loss, the
//! number of steps and the time they took, with the loss printed now and then.

use std::time::Instant;

/// (first loss, final loss, steps, seconds): what each example's `run` returns, and one
/// row of the lecture's table.
pub type Outcome = (f32, f32, usize, f64);

/// Records each step's loss; prints it every `every` steps (and at the last) if verbose.
pub struct Progress {
    label: &'static str,
    steps: usize,
    every: usize,
    verbose: bool,
    first: Option<f32>,
    last: f32,
    start: Instant,
}

impl Progress {
    /// Starts the clock for a loop of `steps` steps.
    pub fn new(steps: usize, every: usize, verbose: bool) -> Self {
        Progress {
            label: "",
            steps,
            every,
            verbose,
            first: None,
            last: f32::NAN,
            start: Instant::now(),
        }
    }

    /// Puts `label` in front of each printed line (to tell two runs apart).
    pub fn labelled(mut self, label: &'static str) -> Self {
        self.label = label;
        self
    }

    /// The loss of step `t`.
    pub fn record(&mut self, t: usize, loss: f32) {
        self.first.get_or_insert(loss);
        self.last = loss;
        if self.verbose && (t.is_multiple_of(self.every) || t + 1 == self.steps) {
            let label = if self.label.is_empty() {
                String::new()
            } else {
                format!("{:<5} ", self.label)
            };
            println!("{label}step {t:5}  loss {loss:.6}");
        }
    }

    /// Stops the clock.
    pub fn finish(self) -> Outcome {
        let seconds = self.start.elapsed().as_secs_f64();
        (
            self.first.unwrap_or(f32::NAN),
            self.last,
            self.steps,
            seconds,
        )
    }
}

/// One line: the losses and the time per step.
pub fn print_outcome((first, last, steps, seconds): Outcome) {
    println!(
        "loss {first:.4} -> {last:.4} in {steps} steps, {:.3} µs/step",
        seconds / steps as f64 * 1e6
    );
}
