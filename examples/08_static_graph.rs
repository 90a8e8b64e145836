//! Lecture section 5, "세상 단순한 인공 신경망의 구현 (Tensorflow)": the same network as a
//! TensorFlow 1 static graph — define first, then run in a session with a feed dict.
//!
//! The slide's code, as printed:
//! ```python
//! import numpy as np
//! import tensorflow as tf
//! N, Din, Dout = 64, 4, 2
//! X = tf.placeholder(tf.float32, shape=(N, Din))
//! Y = tf.placeholder(tf.float32, shape=(N, Dout))
//! W = tf.placeholder(tf.float32, shape=(Din, Dout))
//! Y_pred = tf.matmul(w, x)
//! Diff = y_pred - y
//! Loss = tf.reduce_mean(tf.reduce_sum(diff**2, axis=1))
//! grad_w = tf.gradients(loss, [w])
//! with tf.Session() as sess:
//!     values = {x: np.random.randn(N, Din),
//!               y: np.random.randn(N, Dout),
//!               w: np.random.randn(Din, Dout),}
//!     out = sess.run([loss, grad_w], feed_dict=values)
//!     loss_val, grad_w_val = out
//! ```
//! Two slips on the slide, fixed here:
//! - `tf.matmul(w, x)` multiplies a (Din, Dout) = (4, 2) matrix by a (N, Din) = (64, 4)
//!   one, whose shapes do not fit; `tf.matmul(x, w)` is meant, (64, 4)·(4, 2).
//! - The names are capitalised where they are made (`X`, `W`, `Diff`, `Loss`) and lower
//!   case where they are used; one spelling, `x`, `w`, `diff`, `loss`, is meant.
//!
//! Then, as the lecture suggests, the whole training step moves into the graph: `w`
//! becomes a variable and `assign` writes `w - lr * grad_w` back at every run.
//!
//! Dynamic (PyTorch, `04_autograd.rs`) vs static (this file): eagerly, every step records
//! its graph as it computes; here the graph is built once, checked once (shapes), and each
//! `run` only evaluates it.
//!
//! Run: `cargo run --release --example 08_static_graph`

#[path = "support/progress.rs"]
#[allow(dead_code)]
mod progress;

use progress::{print_outcome, Outcome, Progress};
use std::time::Instant;
use tapegrad::graph::{Graph, Session};
use tapegrad::{manual_seed, no_grad, Tensor};

pub fn run(verbose: bool) -> Outcome {
    let (n, din, dout, lr, steps) = (64, 4, 2, 1e-6f32, 500);
    manual_seed(0);
    let x_value: Tensor = Tensor::randn(&[n, din]);
    let y_value: Tensor = Tensor::randn(&[n, dout]);
    let w_value: Tensor = Tensor::randn(&[din, dout]);

    // The slide: placeholders, a loss, tf.gradients, one Session.run with a feed dict.
    let g = Graph::<f32>::new();
    let x = g.placeholder("x", &[n, din]);
    let y = g.placeholder("y", &[n, dout]);
    let w = g.placeholder("w", &[din, dout]);
    let y_pred = x.matmul(&w);
    let diff = &y_pred - &y;
    let loss = diff.pow(2.0).sum_dim(1, false).mean(); // reduce_mean(reduce_sum(diff², axis=1))
    let grad_w = &g.gradients(&loss, &[&w])[0];
    let sess = Session::new(&g);
    let feeds = [(&x, &x_value), (&y, &y_value), (&w, &w_value)];
    let out = sess
        .run(&[&loss, grad_w], &feeds)
        .expect("every placeholder is fed");
    if verbose {
        println!("loss = {:.6}\ngrad_w = {}", out[0].item(), out[1]);
    }

    // Training inside the graph: w is a variable, each run assigns w - lr * grad.
    let train = Graph::<f32>::new();
    let x = train.placeholder("x", &[n, din]);
    let y = train.placeholder("y", &[n, dout]);
    let w = train.variable("w", &w_value);
    let loss = (0.5 * (x.mm(&w) - &y).pow(2.0)).sum();
    let grad_w = &train.gradients(&loss, &[&w])[0];
    let step = w.assign(&(&w - &(lr * grad_w)));
    let sess = Session::new(&train);
    let mut progress = Progress::new(steps, 100, verbose);
    for t in 0..steps {
        let last = sess
            .run(&[&loss, &step], &[(&x, &x_value), (&y, &y_value)])
            .expect("fed")[0]
            .item();
        progress.record(t, last);
    }
    let outcome = progress.finish();
    let seconds = outcome.3;

    if verbose {
        // The same step eagerly, for the comparison the lecture draws.
        let w_eager = w_value.detach().requires_grad_(true);
        let eager_start = Instant::now();
        for _ in 0..steps {
            let loss = (0.5 * (x_value.mm(&w_eager) - &y_value).pow(2.0)).sum();
            loss.backward();
            no_grad(|| w_eager.sub_(&(lr * w_eager.grad().expect("w has a gradient"))));
            w_eager.zero_grad();
        }
        let eager = eager_start.elapsed().as_secs_f64();
        println!(
            "per step: static {:.3} µs, eager {:.3} µs",
            seconds / steps as f64 * 1e6,
            eager / steps as f64 * 1e6
        );

        // TF1's `shape=(None, Din)`: a -1 dim is known only at run time, so one graph
        // takes a batch of any size (every -1 of a graph is the same size N).
        let any = Graph::<f32>::new();
        let x = any.placeholder("x", &[-1, din as i64]);
        let y = any.placeholder("y", &[-1, dout as i64]);
        let w = any.placeholder("w", &[din, dout]);
        let loss = (x.mm(&w) - &y).pow(2.0).sum_dim(1, false).mean();
        let grad_w = &any.gradients(&loss, &[&w])[0];
        let sess = Session::new(&any);
        for rows in [n, 16] {
            let (xb, yb) = (x_value.narrow(0, 0, rows), y_value.narrow(0, 0, rows));
            let out = sess
                .run(&[&loss, grad_w], &[(&x, &xb), (&y, &yb), (&w, &w_value)])
                .expect("every placeholder is fed");
            println!(
                "batch of {rows:2} through x {:?}: loss = {:.6}",
                x.static_shape(),
                out[0].item()
            );
        }
        println!("\n{}", train.to_dot());
    }
    outcome
}

#[allow(dead_code)]
fn main() {
    print_outcome(run(true));
}
