//! The whole lecture in order, one row per step: what it computes, which tapegrad layer it
//! uses, the first and final loss, and the time per step.
//!
//! Run: `cargo run --release --example lecture`

// Each lecture example is a program of its own, so each brings its own copy of
// examples/support/progress.rs; included together here, those copies are expected.
#![allow(clippy::duplicate_mod)]

#[path = "01_dog_vs_wolf.rs"]
#[allow(dead_code)]
mod dog_vs_wolf;

#[path = "02_numpy_style.rs"]
#[allow(dead_code)]
mod numpy_style;

#[path = "03_torch_manual.rs"]
#[allow(dead_code)]
mod torch_manual;

#[path = "04_autograd.rs"]
#[allow(dead_code)]
mod autograd;

#[path = "05_nn.rs"]
#[allow(dead_code)]
mod nn_step;

#[path = "06_optim.rs"]
#[allow(dead_code)]
mod optim_step;

#[path = "07_custom_module.rs"]
#[allow(dead_code)]
mod custom_module;

#[path = "dog_vs_wolf_classifier.rs"]
#[allow(dead_code)]
mod classifier;

#[path = "08_static_graph.rs"]
#[allow(dead_code)]
mod static_graph;

/// (lecture step, what it shows, tapegrad layer, example, run)
type Step = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    fn(bool) -> (f32, f32, usize, f64),
);

fn main() {
    let steps: [Step; 10] = [
        (
            "2",
            "worked example: formula = backward()",
            "Tensor, backward",
            "01_dog_vs_wolf",
            dog_vs_wolf::run,
        ),
        (
            "3",
            "NumPy, manual gradient",
            "Tensor ops",
            "02_numpy_style",
            numpy_style::run,
        ),
        (
            "4(1)",
            "torch on a device, manual gradient",
            "Tensor, Device",
            "03_torch_manual",
            torch_manual::run,
        ),
        (
            "4(2)",
            "autograd: backward, no_grad",
            "autograd",
            "04_autograd",
            autograd::run,
        ),
        (
            "4(3)",
            "nn: Sequential(Linear), mse_loss",
            "nn",
            "05_nn",
            nn_step::run,
        ),
        ("4(4)", "optim: Adam", "optim", "06_optim", optim_step::run),
        (
            "4(4)",
            "optim: SGD with momentum",
            "optim",
            "06_optim",
            optim_step::run_sgd,
        ),
        (
            "4(5)",
            "own Module: MyOneLayerNet + Adam",
            "nn::Module",
            "07_custom_module",
            custom_module::run,
        ),
        (
            "5",
            "TF-style static graph + Session.run",
            "graph",
            "08_static_graph",
            static_graph::run,
        ),
        (
            "+",
            "dogs vs wolves: MLP, cross_entropy",
            "nn, optim, save",
            "dog_vs_wolf_classifier",
            classifier::run,
        ),
    ];
    println!("The world's simplest neural network: y_pred = x·w, N=64, Din=4, Dout=2");
    println!("(the last row classifies 1000 generated dogs and wolves; its loss is per epoch)");
    println!("slides: the loss the lecture's slides print for the step (✗ where it is wrong;");
    println!("01_dog_vs_wolf prints every number beside the right one). The other steps start");
    println!("from random numbers, so the slides print no loss for them.\n");
    println!(
        "| {:<5} | {:<36} | {:<17} | {:<22} | {:>6} | {:>12} | {:>12} | {:<17} | {:>9} |",
        "step",
        "what",
        "layer",
        "example",
        "steps",
        "first loss",
        "final loss",
        "slides",
        "µs/step"
    );
    println!(
        "|{:-<7}|{:-<38}|{:-<19}|{:-<24}|{:->8}|{:->14}|{:->14}|{:-<19}|{:->11}|",
        "", "", "", "", "", "", "", "", ""
    );
    for (step, what, layer, example, run) in steps {
        let (first, last, n, seconds) = run(false);
        let slides = if example == "01_dog_vs_wolf" {
            slides_losses(first, last)
        } else {
            "—".to_string()
        };
        println!(
            "| {step:<5} | {what:<36} | {layer:<17} | {example:<22} | {n:>6} | {first:>12.4} | {last:>12.4} | {slides:<17} | {:>9.3} |",
            seconds / n as f64 * 1e6
        );
    }
}

/// The worked example's losses as the slides print them (before and after their step on
/// w41 and w42), each marked ✗ where it differs from tapegrad's beyond the slide's rounding.
fn slides_losses(first: f32, last: f32) -> String {
    let e = dog_vs_wolf::worked_example(false);
    let numbers = dog_vs_wolf::slide_numbers(&e);
    let loss = |what: &str, ours: f32| {
        let s = numbers
            .iter()
            .find(|s| s.what == what)
            .expect("a slide loss");
        assert_eq!(
            s.computed as f32, ours,
            "the table and the slide list disagree"
        );
        let mark = if s.agrees() { "" } else { " ✗" };
        format!("{:.*}{mark}", s.digits as usize, s.slide)
    };
    format!("{} → {}", loss("L", first), loss("L again", last))
}
