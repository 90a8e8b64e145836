//! The tape's behaviour: gradients against PyTorch, accumulation, retain_graph, no_grad,
//! in-place rules, the version counter, and threads.

use tapegrad::{no_grad, no_grad_guard, Tensor};

#[track_caller]
fn assert_close(actual: &[f64], expected: &[f64], tol: f64) {
    assert_eq!(actual.len(), expected.len());
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= tol * e.abs().max(1.0),
            "element {i}: got {a}, expected {e}"
        );
    }
}

#[test]
fn should_match_pytorch_gradients_of_a_composite() {
    // PyTorch 2.15, float64:
    // a = torch.tensor([[0.5, -1.0, 2.0], [3.0, -0.25, 1.5]], dtype=torch.float64)
    // b = torch.tensor([2.0, -4.0, 0.5], dtype=torch.float64)
    // c = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=torch.float64)
    // x, w, bb = (t.clone().requires_grad_(True) for t in (a, c, b))
    // loss = (x.mm(w).tanh() * 2 - 1).pow(2).sum() + (x / bb).sigmoid().mean() \
    //        + (x.t() * 0.1).exp().sum(0).max() + x.relu().sqrt().sum()
    // loss.backward(); print(loss, x.grad, w.grad, bb.grad)
    let x = Tensor::<f64>::from_vec(vec![0.5, -1.0, 2.0, 3.0, -0.25, 1.5], &[2, 3])
        .requires_grad_(true);
    let w =
        Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]).requires_grad_(true);
    let b = Tensor::<f64>::from_vec(vec![2.0, -4.0, 0.5], &[3]).requires_grad_(true);
    let loss = (x.mm(&w).tanh() * 2.0 - 1.0).pow(2.0).sum()
        + (&x / &b).sigmoid().mean()
        + (x.t() * 0.1).exp().sum_dim(0, false).max_dim(0, false).0
        + x.relu().sqrt().sum();
    loss.backward();
    assert_close(&[loss.item()], &[13.297138940363002], 1e-12);
    let gx = [
        0.7276233365354657,
        -0.010239928777684754,
        0.35946689354968264,
        0.43608994075268503,
        0.08712465360423886,
        0.5394908732414629,
    ];
    // At x = -1.0 and -0.25, sqrt(relu(x)) has sqrt's infinite slope at 0 behind relu's
    // zero gradient: PyTorch selects (0), it does not multiply (0 * inf = nan). So do we.
    assert_close(&x.grad().unwrap().to_vec(), &gx, 1e-12);
    assert_close(
        &w.grad().unwrap().to_vec(),
        &[
            2.6103309257091594e-06,
            1.2187301617121286e-07,
            -4.908021216021041e-06,
            -2.4368241922765017e-07,
            9.870414716459001e-06,
            4.87375901605696e-07,
        ],
        1e-9,
    );
    assert_close(
        &b.grad().unwrap().to_vec(),
        &[
            -0.02377109989915824,
            0.0032143029926645817,
            -0.0687269346819668,
        ],
        1e-12,
    );
}

#[test]
fn should_accumulate_until_zero_grad() {
    let w = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[2]).requires_grad_(true);
    // d/dw sum(w * w * 3) = 6w, twice -> 12w.
    (&w * &w * 3.0).sum().backward();
    (&w * &w * 3.0).sum().backward();
    assert_eq!(w.grad().unwrap().to_vec(), vec![12.0, 24.0]);
    let handle = w.grad().unwrap();
    w.zero_grad();
    assert_eq!(
        handle.to_vec(),
        vec![0.0, 0.0],
        "zero_grad works in place, like grad.zero_()"
    );
    (&w + &w).sum().backward(); // a tensor used twice in one op: contributions sum
    assert_eq!(w.grad().unwrap().to_vec(), vec![2.0, 2.0]);
    w.clear_grad();
    assert!(w.grad().is_none());
}

#[test]
fn should_reduce_broadcast_gradients_to_input_shapes() {
    let x = Tensor::<f64>::ones(&[4, 3]).requires_grad_(true);
    let bias = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0], &[3]).requires_grad_(true);
    let col = Tensor::<f64>::ones(&[4, 1]).requires_grad_(true);
    let s = Tensor::<f64>::scalar(2.0).requires_grad_(true);
    ((&x + &bias) * &col * &s).sum().backward();
    assert_eq!(bias.grad().unwrap().shape(), &[3]);
    assert_eq!(bias.grad().unwrap().to_vec(), vec![8.0, 8.0, 8.0]); // 4 rows * s
    assert_eq!(col.grad().unwrap().shape(), &[4, 1]);
    assert_eq!(col.grad().unwrap().to_vec(), vec![18.0; 4]); // (3 + 6) * 2
    assert_eq!(s.grad().unwrap().shape(), &[] as &[usize]);
    assert_eq!(s.grad().unwrap().item(), 36.0);
}

#[test]
fn should_refuse_backward_from_a_non_scalar() {
    let x = Tensor::<f32>::ones(&[2, 2]).requires_grad_(true);
    let e = (&x * 2.0).try_backward().unwrap_err();
    assert_eq!(
        e.to_string(),
        "backward: grad can be implicitly created only for scalar outputs, got shape [2, 2]"
    );
    let e = Tensor::<f32>::ones(&[1]).sum().try_backward().unwrap_err();
    assert!(e.to_string().contains("does not require grad"), "{e}");
}

#[test]
fn should_free_the_graph_unless_retained() {
    let x = Tensor::<f64>::from_vec(vec![3.0], &[1]).requires_grad_(true);
    let y = (&x * &x).sum();
    y.backward_with(true);
    y.backward(); // allowed: the first call kept the graph; this one frees it
    assert_eq!(x.grad().unwrap().to_vec(), vec![12.0]);
    let e = y.try_backward().unwrap_err();
    assert!(
        e.to_string()
            .starts_with("backward: trying to backward through the graph a second time"),
        "{e}"
    );
}

#[test]
fn should_keep_intermediate_gradients_only_when_asked() {
    let x = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[2]).requires_grad_(true);
    let h = &x * 3.0;
    let kept = &x * 5.0;
    kept.retain_grad();
    (h.pow(2.0).sum() + kept.sum()).backward();
    assert!(h.grad().is_none());
    assert_eq!(kept.grad().unwrap().to_vec(), vec![1.0, 1.0]);
    assert_eq!(x.grad().unwrap().to_vec(), vec![18.0 + 5.0, 36.0 + 5.0]);
    assert!(!h.is_leaf() && x.is_leaf());
    assert_eq!(h.grad_fn_name().as_deref(), Some("MulBackward"));
}

#[test]
fn should_not_record_under_no_grad() {
    let w = Tensor::<f32>::ones(&[2]).requires_grad_(true);
    let y = no_grad(|| &w * 2.0);
    assert!(!y.requires_grad() && y.is_leaf());
    {
        let _outer = no_grad_guard();
        {
            let _inner = no_grad_guard();
        }
        assert!(
            !(&w * 2.0).requires_grad(),
            "still off after the inner guard drops"
        );
        // The switch is per thread: another thread records as usual.
        let w2 = w.clone();
        let recorded = std::thread::spawn(move || (&w2 * 2.0).requires_grad())
            .join()
            .unwrap();
        assert!(recorded);
    }
    assert!((&w * 2.0).requires_grad());
    let d = (&w * 2.0).detach();
    assert!(!d.requires_grad() && d.is_leaf());
}

#[test]
fn should_refuse_in_place_on_a_leaf_outside_no_grad() {
    let w = Tensor::<f32>::ones(&[2]).requires_grad_(true);
    let e = w.try_sub_(&Tensor::ones(&[2])).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("sub_: a leaf tensor that requires grad cannot be modified in place"),
        "{e}"
    );
    let panic = std::panic::catch_unwind(|| w.sub_(&Tensor::ones(&[2]))).unwrap_err();
    assert_eq!(panic.downcast_ref::<String>().unwrap(), &e.to_string());
    no_grad(|| w.sub_(&Tensor::full(&[2], 0.5)));
    assert_eq!(w.to_vec(), vec![0.5, 0.5]);
}

#[test]
fn should_detect_a_saved_value_changed_in_place() {
    let w = Tensor::<f64>::from_vec(vec![2.0], &[1]).requires_grad_(true);
    let x = Tensor::<f64>::from_vec(vec![3.0], &[1]);
    let y = (&w * &x).sum(); // mul saves x
    x.add_(&Tensor::ones(&[1])); // x does not require grad: allowed, but bumps its version
    let e = y.try_backward().unwrap_err();
    assert_eq!(
        e.to_string(),
        "backward: a value needed by the gradient of mul was modified by an in-place operation (it is at version 1, the graph saved version 0)"
    );
    // An op that saves nothing does not care.
    let z = (&w + &x).sum();
    x.add_(&Tensor::ones(&[1]));
    z.backward();
    assert_eq!(w.grad().unwrap().to_vec(), vec![1.0]);
}

#[test]
fn should_draw_the_graph() {
    let x = Tensor::<f32>::ones(&[64, 4]);
    let y = Tensor::<f32>::ones(&[64, 2]);
    let w = Tensor::<f32>::ones(&[4, 2]).requires_grad_(true);
    let loss = (x.mm(&w) - &y).pow(2.0).sum();
    let dot = loss.to_dot();
    for needle in [
        "digraph",
        "MatmulBackward",
        "SubBackward",
        "PowBackward",
        "SumBackward",
        "leaf [4, 2]",
        "constant [64, 4]",
    ] {
        assert!(dot.contains(needle), "{needle} missing from\n{dot}");
    }
    assert_eq!(dot.matches("->").count(), 6);
}

#[test]
fn should_train_independent_models_on_two_threads() {
    let train = |seed: u64| {
        move || {
            let x = Tensor::<f64>::from_vec(
                (0..8).map(|i| (i as f64 + seed as f64) * 0.1).collect(),
                &[4, 2],
            );
            let w = Tensor::<f64>::zeros(&[2, 1]).requires_grad_(true);
            let target = Tensor::<f64>::ones(&[4, 1]);
            for _ in 0..200 {
                let loss = (x.mm(&w) - &target).pow(2.0).mean();
                loss.backward();
                no_grad(|| w.sub_(&(w.grad().unwrap() * 0.1)));
                w.zero_grad();
            }
            (x.mm(&w) - &target).pow(2.0).mean().item()
        }
    };
    let (a, b) = (std::thread::spawn(train(1)), std::thread::spawn(train(2)));
    let (la, lb) = (a.join().unwrap(), b.join().unwrap());
    // Each alone, on this thread, gives the same result: no shared state between them.
    assert_eq!(la, train(1)());
    assert_eq!(lb, train(2)());
    assert!(
        la < 1.0 && lb < 1.0,
        "training lowered the loss from 1.0: {la} {lb}"
    );
}

#[test]
fn should_sum_every_path_through_an_intermediate_used_twice() {
    // h = tanh(x) feeds two consumers, each feeding the loss (a diamond, and chains on
    // either side of it): d/dx sum(2h + h²) = (2 + 2h)(1 - h²), derived by hand.
    let x: Tensor<f64> =
        Tensor::from_vec(vec![-1.5, -0.2, 0.0, 0.7, 2.0], &[5]).requires_grad_(true);
    let h = (&x * 1.0).tanh();
    let loss = ((&h * 2.0 + h.pow(2.0)) * 1.0).sum();
    loss.backward();
    let expected: Vec<f64> = x
        .to_vec()
        .iter()
        .map(|v| (2.0 + 2.0 * v.tanh()) * (1.0 - v.tanh() * v.tanh()))
        .collect();
    for (g, e) in x.grad().unwrap().to_vec().iter().zip(&expected) {
        assert!((g - e).abs() < 1e-14, "{g} vs {e}");
    }
}

#[test]
fn a_graph_recorded_on_several_threads_runs_each_node_once() {
    // Nodes are numbered per thread. The first thread records 100 ops before y, so y's
    // number is high; the second thread is fresh, yet w = 3y must number above y, or the
    // walk would run y's rule before w's gradient reaches it, and then again (an error:
    // exp's saved output is freed by the first run).
    let x = Tensor::<f64>::ones(&[2]).requires_grad_(true);
    let x1 = x.clone();
    let y = std::thread::spawn(move || {
        let mut t = x1.clone();
        for _ in 0..100 {
            t = &t * 1.0;
        }
        drop(t);
        x1.exp()
    })
    .join()
    .expect("first thread");
    let y1 = y.clone();
    let w = std::thread::spawn(move || &y1 * 3.0)
        .join()
        .expect("second thread");
    std::thread::spawn(move || (&w + &y).sum().try_backward())
        .join()
        .expect("third thread")
        .expect("each node's rule runs once");
    let e = 1f64.exp();
    assert_eq!(x.grad().expect("x's gradient").to_vec(), vec![4.0 * e; 2]);
}
