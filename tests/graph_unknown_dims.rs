//! Placeholders with an unknown dim (`g.placeholder("x", &[-1, 4])`, TF1's `None`): one
//! graph runs at several batch sizes, each run giving what eager tensors give for the same
//! data, values and gradients alike; the feeds' shapes are checked at each run.

use tapegrad::graph::{Graph, Node, Session};
use tapegrad::Tensor;

#[path = "support/close.rs"]
mod close;
use close::assert_close;

/// Distinct, untied values (so sort, max and friends have one answer).
fn data(shape: &[usize], seed: usize) -> Tensor<f64> {
    let n: usize = shape.iter().product();
    let values = (0..n)
        .map(|i| (((i * 37 + seed * 11) % 23) as f64 - 11.0) * 0.13 + 0.001 * i as f64)
        .collect();
    Tensor::from_vec(values, shape)
}

/// `assert_close`, with NaN equal to NaN (the variance of one row is NaN on both sides).
fn same(actual: &[f64], expected: &[f64], what: &str) {
    let nan_free = |v: &[f64]| {
        v.iter()
            .map(|x| if x.is_nan() { 1e300 } else { *x })
            .collect::<Vec<_>>()
    };
    assert_close(&nan_free(actual), &nan_free(expected), 1e-12, what);
}

/// The loss both sides differentiate: not linear, so gradients depend on the values.
fn loss_of_tensor(y: &Tensor<f64>) -> Tensor<f64> {
    (&(y * y) * 0.5 + y).sum()
}

fn loss_of_node(y: &Node<f64>) -> Node<f64> {
    (&(y * y) * 0.5 + y).sum()
}

/// One computation written twice with the same body: on a tensor and on a graph node.
macro_rules! cases {
    ($($name:literal => |$x:ident| $body:expr;)*) => {
        vec![$((
            $name,
            (|$x: &Tensor<f64>| -> Tensor<f64> { $body }) as fn(&Tensor<f64>) -> Tensor<f64>,
            (|$x: &Node<f64>| -> Node<f64> { $body }) as fn(&Node<f64>) -> Node<f64>,
        ),)*]
    };
}

#[test]
fn a_graph_with_an_unknown_batch_dim_matches_eager_at_every_batch_size() {
    let cases = cases! {
        "flatten" => |x| x.flatten(1, -1);
        "reshape_inferred" => |x| x.reshape(&[-1, 6]);
        "reshape_flat" => |x| x.reshape(&[-1]).exp();
        "mean" => |x| x.mean();
        "mean_dim0" => |x| x.mean_dim(0, false);
        "var_dim0" => |x| x.var_dim(0, true);
        "std" => |x| x.std();
        "var" => |x| x.var();
        "sum_dim0" => |x| x.sum_dim(0, false);
        "norm_dim0" => |x| x.norm_dim(0, false);
        "bias_broadcast" => |x| x + &x.i((0, 0)).sum_dim(0, false).exp();
        "select_last_row" => |x| x.select(0, x.shape()[0] - 1);
        "narrow_from_second_row" => |x| x.narrow(0, 1, x.shape()[0] - 1);
        "index_from_second_row" => |x| x.i((1.., 2));
        "cat_dim0" => |x| tapegrad_cat(&[x, &x.narrow(0, 0, 1).tanh(), x]);
        "flip_dim0" => |x| x.flip(&[0, 2]);
        "pad_dim0" => |x| x.pad(&[(1, 2), (0, 0), (1, 0)], 0.25);
        "repeat_dim0" => |x| x.repeat(&[2, 1, 1]);
        "cumsum_dim0" => |x| x.cumsum(0);
        "cumprod_dim0" => |x| x.cumprod(0);
        "sort_dim0" => |x| x.sort(0, true).0;
        "max_dim0" => |x| x.max_dim(0, false).0;
        "logsumexp_dim0" => |x| x.logsumexp(0, true);
        "prod_dim0" => |x| x.prod_dim(0, false);
        "topk_last" => |x| x.topk(2, -1).0;
        "max_all" => |x| x.max();
        "transpose_matmul" => |x| x.transpose(0, 2).matmul(&x.transpose(1, 2).transpose(0, 1));
        "expand" => |x| x.unsqueeze(1).expand(&[x.shape()[0], 2, 3, 4]).sigmoid();
        "stack" => |x| tapegrad_stack(&[x, &x.relu()]);
        "tril" => |x| x.tril(0).triu(-1);
        "leaky_relu" => |x| x.leaky_relu(0.1).gelu();
        "clamp" => |x| x.clamp(-0.5, 0.7);
        "maximum_flipped" => |x| x.maximum(&x.flip(&[0]));
        "squeeze_unsqueeze" => |x| x.unsqueeze(0).squeeze_dim(0).t_last();
    };
    for (name, eager, graph) in cases {
        let g = Graph::<f64>::new();
        let x = g.placeholder("x", &[-1, 3, 4]);
        let y = graph(&x);
        let dx = g.gradients(&loss_of_node(&y), &[&x]).remove(0);
        let sess = Session::new(&g);
        for n in [1, 3, 5, 2] {
            let value = data(&[n, 3, 4], n);
            let out = sess.run(&[&y, &dx], &[(&x, &value)]).unwrap_or_else(|e| {
                panic!("{name} with N = {n}: {e}");
            });
            let xt = value.clone().requires_grad_(true);
            let yt = eager(&xt);
            loss_of_tensor(&yt).backward();
            assert_eq!(out[0].shape(), yt.shape(), "{name} shape, N = {n}");
            same(&out[0].to_vec(), &yt.to_vec(), &format!("{name}, N = {n}"));
            same(
                &out[1].to_vec(),
                &xt.grad().unwrap().to_vec(),
                &format!("{name} gradient, N = {n}"),
            );
        }
    }
}

/// `cat` and `stack` along dim 0, under one name for both types.
trait Join: Sized {
    fn join(parts: &[&Self], stack: bool) -> Self;
}

impl Join for Tensor<f64> {
    fn join(parts: &[&Self], stack: bool) -> Self {
        if stack {
            Tensor::stack(parts, 0)
        } else {
            Tensor::cat(parts, 0)
        }
    }
}

impl Join for Node<f64> {
    fn join(parts: &[&Self], stack: bool) -> Self {
        if stack {
            Node::stack(parts, 0)
        } else {
            Node::cat(parts, 0)
        }
    }
}

fn tapegrad_cat<V: Join>(parts: &[&V]) -> V {
    V::join(parts, false)
}

fn tapegrad_stack<V: Join>(parts: &[&V]) -> V {
    V::join(parts, true)
}

/// The last two dims swapped, for both types.
trait LastSwap {
    fn t_last(&self) -> Self;
}

impl LastSwap for Tensor<f64> {
    fn t_last(&self) -> Self {
        self.transpose(-2, -1)
    }
}

impl LastSwap for Node<f64> {
    fn t_last(&self) -> Self {
        self.transpose(-2, -1)
    }
}

/// The lecture's least squares as a TF1 program: batches of any size through one graph,
/// trained by `assign`, equal to the same steps taken eagerly.
#[test]
fn the_lecture_graph_trains_on_batches_of_different_sizes() {
    let g = Graph::<f64>::new();
    let x = g.placeholder("x", &[-1, 4]);
    let y = g.placeholder("y", &[-1, 1]);
    let w0 = data(&[4, 1], 7);
    let w = g.variable("w", &w0);
    let loss = (&x.matmul(&w) - &y).pow(2.0).mean();
    let grad = g.gradients(&loss, &[&w]).remove(0);
    let step = w.assign(&(&w - &(&grad * 0.05)));
    let sess = Session::new(&g);

    let mut eager_w = w0.clone();
    for (i, n) in [8, 3, 8, 1, 5].into_iter().enumerate() {
        let (xv, yv) = (data(&[n, 4], i), data(&[n, 1], i + 100));
        let out = sess.run(&[&loss, &step], &[(&x, &xv), (&y, &yv)]).unwrap();

        let wt = eager_w.clone().requires_grad_(true);
        let eager_loss = (&xv.matmul(&wt) - &yv).pow(2.0).mean();
        eager_loss.backward();
        assert_close(&out[0].to_vec(), &eager_loss.to_vec(), 1e-12, "loss");
        eager_w = (&eager_w - &(&wt.grad().unwrap() * 0.05)).detach();
        assert_close(
            &out[1].to_vec(),
            &eager_w.to_vec(),
            1e-12,
            "w after the step",
        );
    }
    assert_close(
        &g.variable_value(&w).unwrap().to_vec(),
        &eager_w.to_vec(),
        1e-12,
        "w at the end",
    );
}

#[test]
fn argmax_along_the_unknown_dim_counts_positions_at_run_time() {
    let g = Graph::<f64>::new();
    let x = g.placeholder("x", &[-1, 3]);
    let (values, indices) = x.max_dim(0, false);
    let sess = Session::new(&g);
    for n in [1, 4, 7] {
        let xv = data(&[n, 3], n);
        let out = sess.run(&[&values, &indices], &[(&x, &xv)]).unwrap();
        let (eager_values, eager_indices) = xv.max_dim(0, false);
        assert_eq!(out[0].to_vec(), eager_values.to_vec());
        let eager_indices: Vec<f64> = eager_indices.to_vec().iter().map(|&i| i as f64).collect();
        assert_eq!(out[1].to_vec(), eager_indices, "N = {n}");
    }
}

#[test]
fn feeds_are_checked_at_each_run_and_must_agree_on_the_unknown_size() {
    let g = Graph::<f32>::new();
    let x = g.placeholder("x", &[-1, 4]);
    let y = g.placeholder("y", &[-1, 1]);
    let loss = (&x.sum_dim(1, true) - &y).pow(2.0).mean();
    let sess = Session::new(&g);
    let ok = sess.run(
        &[&loss],
        &[(&x, &Tensor::ones(&[2, 4])), (&y, &Tensor::ones(&[2, 1]))],
    );
    assert!(ok.is_ok());

    let wrong_width = sess
        .run(
            &[&loss],
            &[(&x, &Tensor::ones(&[2, 5])), (&y, &Tensor::ones(&[2, 1]))],
        )
        .unwrap_err()
        .to_string();
    assert!(
        wrong_width.contains("'x'") && wrong_width.contains("[N, 4]"),
        "{wrong_width}"
    );

    let wrong_rank = sess
        .run(
            &[&loss],
            &[(&x, &Tensor::ones(&[8])), (&y, &Tensor::ones(&[2, 1]))],
        )
        .unwrap_err()
        .to_string();
    assert!(wrong_rank.contains("[8]"), "{wrong_rank}");

    let disagree = sess
        .run(
            &[&loss],
            &[(&x, &Tensor::ones(&[3, 4])), (&y, &Tensor::ones(&[2, 1]))],
        )
        .unwrap_err()
        .to_string();
    assert!(
        disagree.contains("'x' gives N = 3") && disagree.contains("'y' gives N = 2"),
        "{disagree}"
    );

    // An empty batch is a batch: the mean of nothing is NaN, as in PyTorch.
    let empty = sess
        .run(
            &[&loss],
            &[(&x, &Tensor::ones(&[0, 4])), (&y, &Tensor::ones(&[0, 1]))],
        )
        .unwrap();
    assert!(empty[0].item().is_nan());
}

#[test]
fn what_cannot_follow_an_unknown_size_fails_while_the_graph_is_built() {
    let g = Graph::<f32>::new();
    assert!(g.try_placeholder("x", &[-1, -1]).is_err());
    assert!(g.try_placeholder("x", &[-3]).is_err());
    assert!(g.try_placeholder("x", &[1usize << 40]).is_err());
    let x = g.placeholder("x", &[-1, 4]);

    // Splitting a dim of unknown size would need its size now.
    let split = x.try_split(2, 0).unwrap_err().to_string();
    assert!(
        split.contains("[N, 4]") && split.contains("run time"),
        "{split}"
    );
    assert!(x.try_chunk(2, 0).is_err());
    // Half of an unknown size is not a size the graph can work out.
    assert!(x.try_reshape(&[2, -1, 4]).is_err());
    // A known size that may or may not fit the unknown one is refused, naming N.
    let fixed = x.try_reshape(&[64, 4]).unwrap_err().to_string();
    assert!(fixed.contains("[N, 4]"), "{fixed}");
    assert!(x.try_add(&g.placeholder("b", &[3, 4])).is_err());
    // Along a known dim, everything works as before.
    assert!(x.try_split(2, 1).is_ok());
    assert_eq!(x.static_shape(), vec![None, Some(4)]);
    assert_eq!(x.t().static_shape(), vec![Some(4), None]);
    assert!(format!("{x:?}").contains("[N, 4]"));
    assert!(g.to_dot().contains("[N, 4]"));
}

#[test]
fn a_known_size_that_does_not_fit_the_run_fails_with_the_op_named() {
    let g = Graph::<f32>::new();
    let x = g.placeholder("x", &[-1, 4]);
    let head = x.narrow(0, 0, 3);
    let sess = Session::new(&g);
    assert_eq!(
        sess.run(&[&head], &[(&x, &Tensor::ones(&[5, 4]))]).unwrap()[0].shape(),
        &[3, 4]
    );
    let err = sess
        .run(&[&head], &[(&x, &Tensor::ones(&[2, 4]))])
        .unwrap_err()
        .to_string();
    assert!(err.contains("narrow"), "{err}");
}

/// `masked_select` in the graph: its length comes from the data at each run, and what is
/// built on it (a mean divides by that length) matches eager tensors.
#[test]
fn masked_select_in_the_graph_matches_eager_whatever_the_mask_selects() {
    let g = Graph::<f64>::new();
    let x = g.placeholder("x", &[-1, 4]);
    let threshold = g.placeholder("t", &[4]);
    let picked = x.masked_select(&x.gt(&threshold));
    let y = &picked.exp().mean() + &(&picked * &picked).sum();
    let dx = g.gradients(&y, &[&x]).remove(0);
    let sess = Session::new(&g);
    for (n, t) in [(3, 0.0), (5, 0.5), (2, -10.0), (4, 10.0)] {
        let xv = data(&[n, 4], n);
        let tv = Tensor::from_vec(vec![t, t - 0.2, t + 0.3, t], &[4]);
        let out = sess
            .run(&[&picked, &y, &dx], &[(&x, &xv), (&threshold, &tv)])
            .unwrap();

        let xt = xv.clone().requires_grad_(true);
        let eager_picked = xt.masked_select(&xv.gt(&tv));
        let eager_y = &eager_picked.exp().mean() + &(&eager_picked * &eager_picked).sum();
        eager_y.backward();
        assert_eq!(out[0].to_vec(), eager_picked.to_vec(), "picked, N = {n}");
        same(&out[1].to_vec(), &eager_y.to_vec(), &format!("y, N = {n}"));
        same(
            &out[2].to_vec(),
            &xt.grad().unwrap().to_vec(),
            &format!("dx, N = {n}"),
        );
    }
    // The gradient alone needs the selection's length, so the run computes it.
    let xv = data(&[3, 4], 1);
    let tv = Tensor::zeros(&[4]);
    assert!(sess.run(&[&dx], &[(&x, &xv), (&threshold, &tv)]).is_ok());
}

#[test]
fn a_second_derivative_passes_through_masked_select() {
    // d²/dx² of sum(selected³) is 6x where selected, 0 elsewhere.
    let g = Graph::<f64>::new();
    let x = g.placeholder("x", &[2, 3]);
    let picked = x.masked_select(&x.gt(0.0));
    let dx = g.gradients(&picked.pow(3.0).sum(), &[&x]).remove(0);
    let ddx = g.gradients(&dx.sum(), &[&x]).remove(0);
    let xv = Tensor::from_vec(vec![1.0, -2.0, 0.5, 3.0, -1.0, 2.0], &[2, 3]);
    let out = Session::new(&g).run(&[&dx, &ddx], &[(&x, &xv)]).unwrap();
    assert_eq!(out[0].to_vec(), vec![3.0, 0.0, 0.75, 27.0, 0.0, 12.0]);
    assert_eq!(out[1].to_vec(), vec![6.0, 0.0, 3.0, 18.0, 0.0, 12.0]);
}
