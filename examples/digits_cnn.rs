//! A real dataset and a real result: a small CNN reads scikit-learn's 8×8 handwritten
//! digits (`data/digits.csv`, 1,797 images) and reaches ≥ 98% accuracy on a held-out 20%.
//!
//! conv 16@3×3 → ReLU → max-pool 2 → conv 32@3×3 → ReLU → max-pool 2 → linear 10,
//! trained with Adam and a cosine learning-rate schedule, batches of 32, a seeded 80/20
//! split. A progress bar shows each epoch; at the end the loss and accuracy curves go to
//! `target/digits_cnn.svg`.
//!
//! ```sh
//! cargo run --release --example digits_cnn
//! ```

#[path = "support/curves.rs"]
mod curves;

use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;
use tapegrad::data::{DataLoader, TensorDataset};
use tapegrad::nn::functional::cross_entropy;
use tapegrad::nn::{Conv2d, Flatten, Linear, MaxPool2d, Module, Relu, Sequential};
use tapegrad::optim::lr_scheduler::CosineAnnealingLr;
use tapegrad::optim::{Adam, Optimizer};
use tapegrad::{manual_seed, no_grad, Tensor};

pub const EPOCHS: usize = 30;
const BATCH: usize = 32;

/// What a run measured: per-epoch training loss and test accuracy, and the seconds taken.
pub struct Report {
    pub train_loss: Vec<f64>,
    pub test_accuracy: Vec<f64>,
    pub seconds: f64,
}

/// The 1,797 images as `[N, 1, 8, 8]` in `[0, 1]` and their labels (as floats, so one
/// `TensorDataset` holds both).
pub fn load_digits() -> (Tensor, Tensor) {
    let text = include_str!("../data/digits.csv");
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    for line in text.lines().filter(|l| !l.is_empty()) {
        let values: Vec<f32> = line
            .split(',')
            .map(|v| v.trim().parse().expect("digits.csv holds numbers"))
            .collect();
        assert_eq!(values.len(), 65, "64 pixels and a label per line");
        pixels.extend(values[..64].iter().map(|p| p / 16.0));
        labels.push(values[64]);
    }
    let n = labels.len();
    (
        Tensor::from_vec(pixels, &[n, 1, 8, 8]),
        Tensor::from_vec(labels, &[n]),
    )
}

/// The CNN: 8×8 → 16@8×8 → 16@4×4 → 32@4×4 → 32@2×2 → 10.
pub fn model() -> Sequential {
    Sequential::new()
        .add(Conv2d::new(1, 16, 3).padding(1))
        .add(Relu)
        .add(MaxPool2d::new(2))
        .add(Conv2d::new(16, 32, 3).padding(1))
        .add(Relu)
        .add(MaxPool2d::new(2))
        .add(Flatten::new())
        .add(Linear::new(32 * 2 * 2, 10))
}

/// The share of `images` the model classifies as `labels`.
fn accuracy(model: &Sequential, images: &Tensor, labels: &Tensor) -> f64 {
    model.train(false);
    let predicted = no_grad(|| model.forward(images))
        .argmax_dim(1, false)
        .to_vec();
    model.train(true);
    let right = predicted
        .iter()
        .zip(labels.to_vec())
        .filter(|&(&p, l)| p as f32 == l)
        .count();
    right as f64 / labels.shape()[0] as f64
}

/// Trains from a fixed seed; draws a progress bar if `verbose`, writes the curves to `svg`.
pub fn run(verbose: bool, svg: Option<&Path>) -> Report {
    let start = std::time::Instant::now();
    manual_seed(0);
    let (images, labels) = load_digits();
    let n = labels.shape()[0];
    let order = Tensor::randperm(n);
    let n_train = n * 4 / 5;
    let (train_ids, test_ids) = (
        order.narrow(0, 0, n_train),
        order.narrow(0, n_train, n - n_train),
    );
    let pick = |t: &Tensor, ids: &Tensor<i64>| t.index_select(0, &ids.contiguous());
    let train = TensorDataset::new(vec![pick(&images, &train_ids), pick(&labels, &train_ids)]);
    let (test_images, test_labels) = (pick(&images, &test_ids), pick(&labels, &test_ids));
    let loader = DataLoader::new(&train, BATCH).shuffle(true).seed(1);

    let model = model();
    let mut optimizer = Adam::new(model.parameters(), 1e-2);
    let mut schedule = CosineAnnealingLr::new(&optimizer, EPOCHS, 0.0);
    let bar = if verbose {
        ProgressBar::new(EPOCHS as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} epoch {pos}/{len} {msg} [{elapsed_precise}]")
            .expect("a valid template"),
    );
    let (mut train_loss, mut test_accuracy) = (Vec::new(), Vec::new());
    for _ in 0..EPOCHS {
        let (mut total, mut batches) = (0.0, 0);
        for batch in &loader {
            let loss = cross_entropy(&model.forward(&batch[0]), &batch[1]);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            total += f64::from(loss.item());
            batches += 1;
        }
        schedule.step();
        train_loss.push(total / batches as f64);
        test_accuracy.push(accuracy(&model, &test_images, &test_labels));
        bar.set_message(format!(
            "loss {:.4}  test accuracy {:.2}%",
            train_loss.last().unwrap(),
            100.0 * test_accuracy.last().unwrap()
        ));
        bar.inc(1);
    }
    bar.finish();
    if let Some(path) = svg {
        curves::write_svg(
            path,
            &[
                curves::Panel {
                    title: "training loss",
                    lines: vec![("cross-entropy", &train_loss)],
                },
                curves::Panel {
                    title: "test accuracy",
                    lines: vec![("accuracy", &test_accuracy)],
                },
            ],
        )
        .expect("the curves can be written");
    }
    Report {
        train_loss,
        test_accuracy,
        seconds: start.elapsed().as_secs_f64(),
    }
}

#[allow(dead_code)] // tests/examples.rs includes this file and calls `run`
fn main() {
    let svg = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("digits_cnn.svg");
    std::fs::create_dir_all(svg.parent().expect("a directory")).expect("target/ can be created");
    let report = run(true, Some(&svg));
    let last = report.test_accuracy.last().copied().unwrap_or(0.0);
    println!(
        "test accuracy {:.2}% after {EPOCHS} epochs ({:.1} s); curves in {}",
        100.0 * last,
        report.seconds,
        svg.display()
    );
}
