//! `clamp` and `narrow`, the two ops added through CONTRIBUTING.md's checklist: values and
//! gradients against PyTorch (the edges included), and static-graph parity.
//! (gradcheck over random shapes covers both in `tests/gradcheck.rs`.)

#[path = "support/close.rs"]
mod close;

use close::assert_close;
use tapegrad::graph::{Graph, Session};
use tapegrad::{ErrorKind, Tensor};

fn values(t: &Tensor<f64>) -> Vec<f64> {
    t.to_vec()
}

#[test]
fn should_clamp_like_pytorch_with_no_gradient_at_the_bounds() {
    // PyTorch 2.15:
    // >>> x = torch.tensor([-2., -1., 0., 0.5, 1., 3., float('nan')], dtype=torch.float64, requires_grad=True)
    // >>> y = x.clamp(-1., 1.); y.sum().backward()
    // >>> y  -> tensor([-1., -1., 0., 0.5, 1., 1., nan])
    // >>> x.grad -> tensor([0., 0., 1., 1., 0., 0., 0.])
    let x = Tensor::<f64>::from_vec(vec![-2.0, -1.0, 0.0, 0.5, 1.0, 3.0, f64::NAN], &[7])
        .requires_grad_(true);
    let y = x.clamp(-1.0, 1.0);
    let got = values(&y);
    assert_close(&got[..6], &[-1.0, -1.0, 0.0, 0.5, 1.0, 1.0], 0.0, "clamp");
    assert!(got[6].is_nan(), "NaN stays NaN");
    y.sum().backward();
    assert_eq!(
        values(&x.grad().unwrap()),
        vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    );
    // >>> for f in (lambda x: x.clamp_min(-1.), lambda x: x.clamp_max(1.)):
    // ...     x = torch.tensor([-2., -1., 0., 1., 3., float('inf'), -float('inf'), float('nan')],
    // ...                      dtype=torch.float64, requires_grad=True)
    // ...     f(x).sum().backward(); print(x.grad)
    // tensor([0., 0., 1., 1., 1., 1., 0., 0.])
    // tensor([1., 1., 1., 0., 0., 0., 1., 0.])
    let edges = [
        -2.0,
        -1.0,
        0.0,
        1.0,
        3.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ];
    let x = Tensor::<f64>::from_vec(edges.to_vec(), &[8]).requires_grad_(true);
    x.clamp_min(-1.0).sum().backward();
    assert_eq!(
        values(&x.grad().unwrap()),
        vec![0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    );
    let x = Tensor::<f64>::from_vec(edges.to_vec(), &[8]).requires_grad_(true);
    x.clamp_max(1.0).sum().backward();
    assert_eq!(
        values(&x.grad().unwrap()),
        vec![1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    );
    // >>> torch.tensor([-2., 3.]).clamp_min(0.)  -> tensor([0., 3.])
    // >>> torch.tensor([-2., 3.]).clamp_max(0.)  -> tensor([-2., 0.])
    let z = Tensor::<f64>::from_vec(vec![-2.0, 3.0], &[2]);
    assert_eq!(values(&z.clamp_min(0.0)), vec![0.0, 3.0]);
    assert_eq!(values(&z.clamp_max(0.0)), vec![-2.0, 0.0]);
}

#[test]
fn clamp_outside_its_bounds_gives_a_zero_gradient_even_for_an_infinite_one() {
    // A select, not a product: 0 * inf would be NaN.
    let x = Tensor::<f64>::from_vec(vec![-5.0, 0.0], &[2]).requires_grad_(true);
    let y = x.clamp(-1.0, 1.0);
    y.try_backward_from(&Tensor::from_vec(vec![f64::INFINITY, 2.0], &[2]), false)
        .unwrap();
    assert_eq!(values(&x.grad().unwrap()), vec![0.0, 2.0]);
}

#[test]
fn clamp_refuses_min_above_max() {
    let x = Tensor::<f32>::zeros(&[2, 3]);
    let e = x.try_clamp(1.0, -1.0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Value);
    assert_eq!(
        e.to_string(),
        "clamp: min 1.0 is greater than max -1.0 (shape [2, 3])"
    );
}

#[test]
fn should_narrow_as_a_view_like_pytorch() {
    // >>> x = torch.arange(12., dtype=torch.float64).reshape(3, 4).requires_grad_()
    // >>> y = x.narrow(1, 1, 2)  -> [[1., 2.], [5., 6.], [9., 10.]]
    // >>> (y * torch.tensor([1., 10.])).sum().backward(); x.grad
    // tensor([[ 0.,  1., 10.,  0.], [ 0.,  1., 10.,  0.], [ 0.,  1., 10.,  0.]])
    let x = Tensor::<f64>::arange(0.0, 12.0, 1.0)
        .reshape(&[3, 4])
        .requires_grad_(true);
    let y = x.narrow(1, 1, 2);
    assert_eq!(values(&y), vec![1.0, 2.0, 5.0, 6.0, 9.0, 10.0]);
    assert!(!y.is_contiguous(), "a view, not a copy");
    (&y * &Tensor::from_vec(vec![1.0, 10.0], &[2]))
        .sum()
        .backward();
    assert_eq!(
        values(&x.grad().unwrap()),
        vec![0.0, 1.0, 10.0, 0.0, 0.0, 1.0, 10.0, 0.0, 0.0, 1.0, 10.0, 0.0]
    );
    // >>> x.narrow(-2, 2, 1)  -> [[8., 9., 10., 11.]]; x.t().narrow(0, 3, 1) -> [[3., 7., 11.]]
    assert_eq!(values(&x.narrow(-2, 2, 1)), vec![8.0, 9.0, 10.0, 11.0]);
    assert_eq!(values(&x.t().narrow(0, 3, 1)), vec![3.0, 7.0, 11.0]);
    // Works on integer tensors too.
    let i = Tensor::<i64>::from_vec(vec![1, 2, 3, 4], &[4]);
    assert_eq!(i.narrow(0, 1, 2).to_vec(), vec![2, 3]);
}

#[test]
fn narrow_refuses_a_window_past_the_end() {
    let x = Tensor::<f32>::zeros(&[3, 4]);
    assert_eq!(
        x.try_narrow(1, 3, 2).unwrap_err().to_string(),
        "narrow: start 3 + length 2 exceeds dim 1 of size 4 (shape [3, 4])"
    );
    assert_eq!(
        x.try_narrow(-3, 0, 1).unwrap_err().to_string(),
        "narrow: dim -3 is out of range for a tensor of shape [3, 4] (expected -2..=1)"
    );
    assert!(x.try_narrow(0, usize::MAX, 2).is_err(), "no overflow");
}

/// The graph's value and gradients equal eager ones.
fn parity(
    graph_fn: impl Fn(&tapegrad::graph::Node<f64>) -> tapegrad::graph::Node<f64>,
    eager_fn: impl Fn(&Tensor<f64>) -> Tensor<f64>,
    input: Tensor<f64>,
) {
    let g = Graph::<f64>::new();
    let x = g.placeholder("x", input.shape());
    let out = graph_fn(&x).sum();
    let grad = g.gradients(&out, &[&x]).remove(0);
    let run = Session::new(&g)
        .run(&[&out, &grad], &[(&x, &input)])
        .unwrap();

    let leaf = input.detach().requires_grad_(true);
    let eager = eager_fn(&leaf).sum();
    eager.backward();
    assert_eq!(values(&run[0]), values(&eager));
    assert_eq!(values(&run[1]), values(&leaf.grad().unwrap()));
}

#[test]
fn clamp_and_narrow_in_the_static_graph_equal_eager() {
    let input = Tensor::<f64>::from_vec(vec![-2.0, -1.0, 0.25, 1.0, 2.0, 0.5, -0.5, 3.0], &[2, 4]);
    parity(
        |x| x.clamp(-1.0, 1.0) * x,
        |x| x.clamp(-1.0, 1.0) * x,
        input.clone(),
    );
    parity(
        |x| x.narrow(-1, 1, 2).exp(),
        |x| x.narrow(-1, 1, 2).exp(),
        input.clone(),
    );
    parity(
        |x| x.t().narrow(0, 2, 2).clamp_min(0.0) * 3.0,
        |x| x.t().narrow(0, 2, 2).clamp_min(0.0) * 3.0,
        input,
    );
}
