//! The static graph: the TensorFlow slide's numbers, gradients equal to eager backward()
//! for every op, variables and assign, and errors (never panics) from `Session::run`.

use tapegrad::graph::{Graph, Node, Session};
use tapegrad::{ErrorKind, Tensor};

fn close(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= 1e-12 * (1.0 + y.abs()))
}

#[test]
fn slide_loss_and_gradient_equal_eager() {
    tapegrad::manual_seed(0);
    let (xv, yv, wv) = (
        Tensor::<f64>::randn(&[64, 4]),
        Tensor::<f64>::randn(&[64, 2]),
        Tensor::<f64>::randn(&[4, 2]),
    );
    let g = Graph::<f64>::new();
    let (x, y, w) = (
        g.placeholder("x", &[64, 4]),
        g.placeholder("y", &[64, 2]),
        g.placeholder("w", &[4, 2]),
    );
    let y_pred = x.matmul(&w);
    let loss = (&y_pred - &y).pow(2.0).sum_dim(1, false).mean();
    let grads = g.gradients(&loss, &[&w]);
    let sess = Session::new(&g);
    let out = sess
        .run(&[&loss, &grads[0]], &[(&x, &xv), (&y, &yv), (&w, &wv)])
        .unwrap();

    let w_eager = wv.detach().requires_grad_(true);
    let loss_eager = (xv.matmul(&w_eager) - &yv)
        .pow(2.0)
        .sum_dim(1, false)
        .mean();
    loss_eager.backward();
    assert!(close(&out[0].to_vec(), &loss_eager.to_vec()));
    assert!(close(&out[1].to_vec(), &w_eager.grad().unwrap().to_vec()));
    // Running again with the same fetches reuses the plan and gives the same numbers.
    let again = sess
        .run(&[&loss, &grads[0]], &[(&x, &xv), (&y, &yv), (&w, &wv)])
        .unwrap();
    assert_eq!(again[1].to_vec(), out[1].to_vec());
}

#[test]
fn slide_matches_tensorflow() {
    // TensorFlow 2.21 (tf.compat.v1 graph mode), float32:
    // xv = ((np.arange(256) % 7 - 3) / 4).reshape(64, 4).astype(np.float32)
    // yv = ((np.arange(128) % 5 - 2) / 3).reshape(64, 2).astype(np.float32)
    // wv = ((np.arange(8) % 3 - 1) * 0.5).reshape(4, 2).astype(np.float32)
    // x, y, w = (v1.placeholder(tf.float32, shape=s) for s in [(64, 4), (64, 2), (4, 2)])
    // diff = tf.matmul(x, w) - y
    // loss = tf.reduce_mean(tf.reduce_sum(diff ** 2, axis=1))
    // grad_w, = tf.gradients(loss, [w])
    // print(v1.Session().run([loss, grad_w], feed_dict={x: xv, y: yv, w: wv}))
    let xv = Tensor::<f32>::from_vec(
        (0..256).map(|i| ((i % 7) as f32 - 3.0) / 4.0).collect(),
        &[64, 4],
    );
    let yv = Tensor::<f32>::from_vec(
        (0..128).map(|i| ((i % 5) as f32 - 2.0) / 3.0).collect(),
        &[64, 2],
    );
    let wv = Tensor::<f32>::from_vec(
        (0..8).map(|i| ((i % 3) as f32 - 1.0) * 0.5).collect(),
        &[4, 2],
    );
    let g = Graph::<f32>::new();
    let (x, y, w) = (
        g.placeholder("x", &[64, 4]),
        g.placeholder("y", &[64, 2]),
        g.placeholder("w", &[4, 2]),
    );
    let loss = (x.matmul(&w) - &y).pow(2.0).sum_dim(1, false).mean();
    let grads = g.gradients(&loss, &[&w]);
    let out = Session::new(&g)
        .run(&[&loss, &grads[0]], &[(&x, &xv), (&y, &yv), (&w, &wv)])
        .unwrap();
    let tf_loss = 0.6585286855697632;
    let tf_grad = [
        -0.0644531175494194,
        -0.1051432266831398,
        0.2649739682674408,
        -0.160481795668602,
        0.0839843824505806,
        0.1966145932674408,
        -0.1767578125,
        0.1048177033662796,
    ];
    assert!(
        (out[0].item() as f64 - tf_loss).abs() < 1e-6,
        "{} vs {tf_loss}",
        out[0].item()
    );
    for (ours, theirs) in out[1].to_vec().iter().zip(tf_grad) {
        assert!((*ours as f64 - theirs).abs() < 1e-6, "{ours} vs {theirs}");
    }
}

/// One op, built both ways: (static gradient of sum(f(a, b)), eager gradient).
fn compare(
    f: impl Fn(&Node<f64>, &Node<f64>) -> Node<f64>,
    fe: impl Fn(&Tensor<f64>, &Tensor<f64>) -> Tensor<f64>,
    sa: &[usize],
    sb: &[usize],
) {
    tapegrad::manual_seed(7);
    let (av, bv) = (
        Tensor::<f64>::rand_uniform(sa, 0.5, 2.0),
        Tensor::<f64>::rand_uniform(sb, 0.5, 2.0),
    );
    let g = Graph::<f64>::new();
    let (a, b) = (g.placeholder("a", sa), g.placeholder("b", sb));
    let out = f(&a, &b).sum();
    let grads = g.gradients(&out, &[&a, &b]);
    let values = Session::new(&g)
        .run(&[&out, &grads[0], &grads[1]], &[(&a, &av), (&b, &bv)])
        .unwrap();

    let (ae, be) = (
        av.detach().requires_grad_(true),
        bv.detach().requires_grad_(true),
    );
    let eager = fe(&ae, &be).sum();
    eager.backward();
    let zeros = |t: &Tensor<f64>| vec![0.0; t.numel()];
    let ga = ae.grad().map_or_else(|| zeros(&ae), |g| g.to_vec());
    let gb = be.grad().map_or_else(|| zeros(&be), |g| g.to_vec());
    assert!(
        close(&values[0].to_vec(), &eager.to_vec()),
        "forward differs"
    );
    assert!(
        close(&values[1].to_vec(), &ga),
        "d/da differs: {:?} vs {:?}",
        values[1].to_vec(),
        ga
    );
    assert!(
        close(&values[2].to_vec(), &gb),
        "d/db differs: {:?} vs {:?}",
        values[2].to_vec(),
        gb
    );
}

#[test]
fn every_op_has_the_same_gradient_as_eager_backward() {
    let (m, v, c) = (&[3usize, 4][..], &[4usize][..], &[4usize, 2][..]);
    compare(
        |a, b| a.unsqueeze(0).squeeze_dim(0).contiguous() * b,
        |a, b| a.unsqueeze(0).squeeze_dim(0).contiguous() * b,
        m,
        v,
    );
    compare(|a, b| a + b, |a, b| a + b, m, v);
    compare(|a, b| a - b, |a, b| a - b, m, v);
    compare(|a, b| a * b, |a, b| a * b, m, v);
    compare(|a, b| a / b, |a, b| a / b, m, v);
    compare(|a, b| a.matmul(b), |a, b| a.matmul(b), m, c);
    compare(|a, b| a.mm(b).t(), |a, b| a.mm(b).t(), m, c);
    compare(|a, b| a.matmul(b), |a, b| a.matmul(b), m, v);
    compare(|a, b| a.pow(3.0) * b, |a, b| a.pow(3.0) * b, m, v);
    compare(|a, b| a.exp() + b.log(), |a, b| a.exp() + b.log(), m, v);
    compare(|a, b| a.sqrt() * b.abs(), |a, b| a.sqrt() * b.abs(), m, v);
    compare(
        |a, b| (a - 1.0).relu() + b.sigmoid(),
        |a, b| (a - 1.0).relu() + b.sigmoid(),
        m,
        v,
    );
    compare(
        |a, b| (a * 3.0).softplus() - b.softplus(),
        |a, b| (a * 3.0).softplus() - b.softplus(),
        m,
        v,
    );
    compare(
        |a, b| a.tanh() * (2.0 - b) / 3.0,
        |a, b| a.tanh() * (2.0 - b) / 3.0,
        m,
        v,
    );
    compare(
        |a, b| (1.0 / a) * (0.5 * b),
        |a, b| (1.0 / a) * (0.5 * b),
        m,
        v,
    );
    compare(
        |a, b| a.sum_dim(0, false) * b,
        |a, b| a.sum_dim(0, false) * b,
        m,
        v,
    );
    compare(
        |a, b| a.mean_dim(1, true) * b.mean(),
        |a, b| a.mean_dim(1, true) * b.mean(),
        m,
        v,
    );
    compare(
        |a, b| a.max_dim(1, false).0.sum() * b.sum(),
        |a, b| a.max_dim(1, false).0.sum() * b.sum(),
        m,
        v,
    );
    compare(
        |a, b| a.transpose(0, 1).reshape(&[2, 6]) * 2.0 + b.sum(),
        |a, b| a.transpose(0, 1).reshape(&[2, 6]) * 2.0 + b.sum(),
        m,
        v,
    );
    compare(
        |a, b| a.permute(&[1, 0]) * b.reshape(&[4, 1]),
        |a, b| a.permute(&[1, 0]) * b.reshape(&[4, 1]),
        m,
        v,
    );
    compare(
        |a, b| a.broadcast_to(&[2, 3, 4]) * -b,
        |a, b| a.broadcast_to(&[2, 3, 4]) * -b,
        m,
        v,
    );
}

#[test]
fn trains_inside_the_graph_with_a_variable_and_assign() {
    tapegrad::manual_seed(0);
    let (xv, yv, w0) = (
        Tensor::<f32>::randn(&[64, 4]),
        Tensor::<f32>::randn(&[64, 2]),
        Tensor::<f32>::randn(&[4, 2]),
    );
    let g = Graph::<f32>::new();
    let (x, y) = (g.placeholder("x", &[64, 4]), g.placeholder("y", &[64, 2]));
    let w = g.variable("w", &w0);
    let loss = (0.5 * (x.mm(&w) - &y).pow(2.0)).sum();
    let grad_w = &g.gradients(&loss, &[&w])[0];
    let step = w.assign(&(&w - &(1e-6 * grad_w)));
    let sess = Session::new(&g);
    let mut losses = vec![];
    for _ in 0..500 {
        losses.push(sess.run(&[&loss, &step], &[(&x, &xv), (&y, &yv)]).unwrap()[0].item());
    }
    // The same 500 steps eagerly (examples/04_autograd.rs's loop) end at the same loss.
    let we = w0.detach().requires_grad_(true);
    for _ in 0..500 {
        let l = (0.5 * (xv.mm(&we) - &yv).pow(2.0)).sum();
        l.backward();
        tapegrad::no_grad(|| we.sub_(&(1e-6 * we.grad().unwrap())));
        we.zero_grad();
    }
    let final_w = g.variable_value(&w).unwrap();
    for (s, e) in final_w.to_vec().iter().zip(we.to_vec()) {
        assert!((s - e).abs() < 1e-5, "{s} vs {e}");
    }
    assert!(losses[499] < losses[0]);
}

#[test]
fn run_returns_errors_for_bad_feeds_and_foreign_nodes() {
    let g = Graph::<f32>::new();
    let x = g.placeholder("x", &[2, 3]);
    let y = &x * 2.0;
    let sess = Session::new(&g);
    let e = sess.run(&[&y], &[]).unwrap_err();
    assert_eq!(
        (e.kind(), e.to_string()),
        (
            ErrorKind::Graph,
            "run: missing feed for placeholder 'x' (shape [2, 3])".to_string()
        )
    );
    let e = sess
        .run(&[&y], &[(&x, &Tensor::zeros(&[3, 2]))])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "run: the feed for 'x' has shape [3, 2], but the node has shape [2, 3]"
    );
    let other = Graph::<f32>::new();
    let z = other.placeholder("z", &[1]);
    let e = sess.run(&[&z], &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "run: fetch 0 (node 0) belongs to another graph"
    );
    // Shapes are checked while building.
    let e = x.try_mm(&g.placeholder("w", &[2, 2])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "mm: cannot multiply [2, 3] by [2, 2]: inner dimensions 3 and 2 differ"
    );
    assert_eq!(x.try_add(&z).unwrap_err().kind(), ErrorKind::Graph);
    // Feeding an intermediate node prunes what it is computed from.
    let out = sess
        .run(&[&(&y + 1.0)], &[(&y, &Tensor::ones(&[2, 3]))])
        .unwrap();
    assert_eq!(out[0].to_vec(), vec![2.0; 6]);
}

#[test]
fn draws_the_graph() {
    let g = Graph::<f32>::new();
    let (x, w) = (g.placeholder("x", &[64, 4]), g.placeholder("w", &[4, 2]));
    let loss = x.mm(&w).pow(2.0).sum();
    let dot = g.to_dot();
    assert!(
        dot.contains("x\\nplaceholder [64, 4]")
            && dot.contains("matmul\\n[64, 2]")
            && dot.contains("-> n"),
        "{dot}"
    );
    drop(loss);
}

/// A planned run computes the common ops with prepared kernels into buffers it keeps
/// from run to run (issue 13). Every run must still give eager's bits: runs with new
/// values, feeds laid out otherwise than planned (a transposed view, a slice), broadcast
/// operands, and a fetched result changed in place by the caller between runs.
#[test]
fn planned_runs_keep_eager_bits_across_runs_and_layouts() {
    tapegrad::manual_seed(3);
    let g = Graph::<f32>::new();
    let (x, y, w) = (
        g.placeholder("x", &[6, 5]),
        g.placeholder("y", &[6, 3]),
        g.placeholder("w", &[5, 3]),
    );
    let b = g.placeholder("b", &[3]);
    // Zip ops of one shape, scalar ops, 2-D products, a broadcast add and a view.
    let pred = x.mm(&w) + &b;
    let diff = (&pred - &y) * 0.5;
    let loss = (&diff * &diff / 3.0).sum();
    let grad = &g.gradients(&loss, &[&w])[0];
    let other = (2.0 - &diff) * (&pred / 4.0 + 1.0) + diff.pow(2.0) + pred.pow(0.5);
    let crossed = x.t().mm(&diff.pow(-1.0)).sum();
    let sess = Session::new(&g);
    let eager = |xv: &Tensor, yv: &Tensor, wv: &Tensor, bv: &Tensor| {
        let wv = wv.detach().requires_grad_(true);
        let pred = xv.mm(&wv) + bv;
        let diff = (&pred - yv) * 0.5;
        let loss = (&diff * &diff / 3.0).sum();
        loss.backward();
        let other = (2.0 - &diff) * (&pred / 4.0 + 1.0) + diff.pow(2.0) + pred.pow(0.5);
        let crossed = xv.t().mm(&diff.pow(-1.0)).sum();
        (
            loss.to_vec(),
            wv.grad().unwrap().to_vec(),
            other.to_vec(),
            crossed.to_vec(),
        )
    };
    for run in 0..4 {
        let xv = match run {
            // A transposed feed: strided, so the product reads it through its strides.
            1 => Tensor::randn(&[5, 6]).t(),
            // A slice of a larger tensor: an offset into its buffer.
            2 => Tensor::randn(&[7, 5]).narrow(0, 1, 6),
            _ => Tensor::randn(&[6, 5]),
        };
        let (yv, wv, bv) = (
            Tensor::randn(&[6, 3]),
            Tensor::randn(&[5, 3]),
            Tensor::randn(&[3]),
        );
        let out = sess
            .run(
                &[&loss, grad, &other, &crossed],
                &[(&x, &xv), (&y, &yv), (&w, &wv), (&b, &bv)],
            )
            .unwrap();
        let (l, gw, o, c) = eager(&xv, &yv, &wv, &bv);
        let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
        assert_eq!(bits(out[0].to_vec()), bits(l), "run {run}: loss");
        assert_eq!(bits(out[1].to_vec()), bits(gw), "run {run}: gradient");
        assert_eq!(bits(out[2].to_vec()), bits(o), "run {run}: other");
        assert_eq!(bits(out[3].to_vec()), bits(c), "run {run}: crossed");
        // The caller owns what it fetched: writing into it must not reach the next run.
        out[2].fill_(f32::NAN);
        out[1].fill_(f32::NAN);
    }
}

/// Above 2^17 elements the prepared kernels split across threads, as the ops' forwards
/// do: a planned run on 2 threads gives eager's bits on 1, run after run.
#[test]
fn large_planned_runs_on_two_threads_keep_eager_bits() {
    let g = Graph::<f32>::new();
    let (a, b) = (
        g.placeholder("a", &[400, 400]),
        g.placeholder("b", &[400, 400]),
    );
    let out = ((&a - &b) * 0.5 + &a * &b).pow(2.0) / 3.0;
    let sess = Session::new(&g);
    let values = |seed: usize| {
        let v: Vec<f32> = (0..160_000)
            .map(|i| ((i * 7919 + seed) % 2003) as f32 / 100.0 - 10.0)
            .collect();
        Tensor::from_vec(v, &[400, 400])
    };
    for seed in 0..3 {
        let (av, bv) = (values(seed), values(seed + 17));
        tapegrad::set_num_threads(1);
        let eager = (((&av - &bv) * 0.5 + &av * &bv).pow(2.0) / 3.0).to_vec();
        tapegrad::set_num_threads(2);
        let planned = sess
            .run(&[&out], &[(&a, &av), (&b, &bv)])
            .unwrap()
            .remove(0)
            .to_vec();
        tapegrad::set_num_threads(0);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&planned), bits(&eager), "run {seed}");
    }
}

#[test]
fn fetched_values_are_private_to_the_caller() {
    // An op's result is handed over without a copy; the same node fetched twice, a fed
    // tensor and a variable come back as copies. Writing into any of them in place must
    // change nothing else: not the other outputs, not the feed, not the variable, not the
    // next run.
    let g = Graph::<f64>::new();
    let x = g.placeholder("x", &[2]);
    let v = g.variable("v", &Tensor::from_vec(vec![10.0, 20.0], &[2]));
    let y = &x * 2.0;
    let sess = Session::new(&g);
    let fed = Tensor::from_vec(vec![1.0, 2.0], &[2]);
    for _ in 0..3 {
        let out = sess.run(&[&y, &y, &x, &v], &[(&x, &fed)]).unwrap();
        for o in &out {
            o.add_(&Tensor::from_vec(vec![100.0, 100.0], &[2]));
        }
        assert_eq!(out[0].to_vec(), vec![102.0, 104.0]);
        assert_eq!(out[1].to_vec(), vec![102.0, 104.0]);
        assert_eq!(out[2].to_vec(), vec![101.0, 102.0]);
        assert_eq!(out[3].to_vec(), vec![110.0, 120.0]);
        assert_eq!(fed.to_vec(), vec![1.0, 2.0]);
    }
    let again = sess.run(&[&y, &v], &[(&x, &fed)]).unwrap();
    assert_eq!(again[0].to_vec(), vec![2.0, 4.0]);
    assert_eq!(again[1].to_vec(), vec![10.0, 20.0]);
}

#[test]
fn ops_on_constants_fold_but_feeds_still_win() {
    // `Session` computes ops on constants alone once, when planning. A folded value must
    // still give way to a feed of the constant or of the op itself, must come back to the
    // caller as a copy (writing into it changes no later run), and must be the value an
    // unfolded run computes: `c * 3 + x` against the same sum eagerly.
    let g = Graph::<f32>::new();
    let c = g.constant(&Tensor::from_vec(vec![1.0, 2.0], &[2]));
    let x = g.placeholder("x", &[2]);
    let tripled = &c * 3.0;
    let broadcast = &g.constant(&Tensor::from_vec(vec![0.5], &[])) * &tripled;
    let y = &tripled + &x;
    let sess = Session::new(&g);
    let fed = Tensor::from_vec(vec![10.0, 20.0], &[2]);
    for _ in 0..2 {
        let out = sess
            .run(&[&y, &tripled, &broadcast], &[(&x, &fed)])
            .unwrap();
        assert_eq!(out[0].to_vec(), vec![13.0, 26.0]);
        assert_eq!(out[1].to_vec(), vec![3.0, 6.0]);
        assert_eq!(out[2].to_vec(), vec![1.5, 3.0]);
        out[1].add_(&Tensor::from_vec(vec![100.0, 100.0], &[2]));
    }
    let other = Tensor::from_vec(vec![-1.0, 4.0], &[2]);
    let out = sess.run(&[&y], &[(&x, &fed), (&c, &other)]).unwrap();
    assert_eq!(out[0].to_vec(), vec![7.0, 32.0]);
    let out = sess.run(&[&y], &[(&x, &fed), (&tripled, &other)]).unwrap();
    assert_eq!(out[0].to_vec(), vec![9.0, 24.0]);
    let out = sess.run(&[&y, &broadcast], &[(&x, &fed)]).unwrap();
    assert_eq!(out[0].to_vec(), vec![13.0, 26.0]);
    assert_eq!(out[1].to_vec(), vec![1.5, 3.0]);
    let eager = &(&Tensor::from_vec(vec![1.0f32, 2.0], &[2]) * 3.0) + &fed;
    assert_eq!(out[0].to_vec(), eager.to_vec());
}
