//! Lecture step 5: the same network as a TensorFlow 1 static graph — define first, then
//! run in a session with a feed dict.
//!
//! The slide:
//! ```python
//! x = tf.placeholder(tf.float32, shape=(N, D_in))
//! y = tf.placeholder(tf.float32, shape=(N, D_out))
//! w = tf.placeholder(tf.float32, shape=(D_in, D_out))
//! y_pred = tf.matmul(x, w)
//! diff = y_pred - y
//! loss = tf.reduce_mean(tf.reduce_sum(diff ** 2, axis=1))
//! grad_w, = tf.gradients(loss, [w])
//! with tf.Session() as sess:
//!     values = {x: np.random.randn(N, D_in), w: np.random.randn(D_in, D_out), y: np.random.randn(N, D_out)}
//!     loss_val, grad_w_val = sess.run([loss, grad_w], feed_dict=values)
//! ```
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
    let (n, d_in, d_out, learning_rate, steps) = (64, 4, 2, 1e-6f32, 500);
    manual_seed(0);
    let x_value: Tensor = Tensor::randn(&[n, d_in]);
    let y_value: Tensor = Tensor::randn(&[n, d_out]);
    let w_value: Tensor = Tensor::randn(&[d_in, d_out]);

    // The slide: placeholders, a loss, tf.gradients, one Session.run with a feed dict.
    let g = Graph::<f32>::new();
    let x = g.placeholder("x", &[n, d_in]);
    let y = g.placeholder("y", &[n, d_out]);
    let w = g.placeholder("w", &[d_in, d_out]);
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
    let x = train.placeholder("x", &[n, d_in]);
    let y = train.placeholder("y", &[n, d_out]);
    let w = train.variable("w", &w_value);
    let loss = (0.5 * (x.mm(&w) - &y).pow(2.0)).sum();
    let grad_w = &train.gradients(&loss, &[&w])[0];
    let step = w.assign(&(&w - &(learning_rate * grad_w)));
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
            no_grad(|| w_eager.sub_(&(learning_rate * w_eager.grad().expect("w has a gradient"))));
            w_eager.zero_grad();
        }
        let eager = eager_start.elapsed().as_secs_f64();
        println!(
            "per step: static {:.3} µs, eager {:.3} µs",
            seconds / steps as f64 * 1e6,
            eager / steps as f64 * 1e6
        );

        // TF1's `shape=(None, D_in)`: a -1 dim is known only at run time, so one graph
        // takes a batch of any size (every -1 of a graph is the same size N).
        let any = Graph::<f32>::new();
        let x = any.placeholder("x", &[-1, d_in as i64]);
        let y = any.placeholder("y", &[-1, d_out as i64]);
        let w = any.placeholder("w", &[d_in, d_out]);
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
