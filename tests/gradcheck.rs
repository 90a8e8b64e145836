//! Every differentiable op, and random compositions of them, pass `gradcheck` (central
//! finite differences in f64) over random shapes, with broadcast operands, size-1 dims,
//! and transposed (strided) views as inputs.

#[path = "support/gradcheck_props.rs"]
mod gradcheck_props;
#[path = "support/proptest_config.rs"]
mod proptest_config;

use gradcheck_props::{broadcast_pair, check, check2};
use proptest::prelude::*;
use proptest_config::config;
use tapegrad::autograd::{gradcheck, GradcheckOptions};
use tapegrad::Tensor;

/// A unary step of a composition. Each is defined for every shape (dims wrap around).
#[derive(Debug, Clone)]
enum Step {
    Neg,
    Exp,
    LogOfSquarePlus, // log(x² + 0.5): log on a positive domain
    SqrtOfSquarePlus,
    Abs,
    Relu,
    Sigmoid,
    Tanh,
    Softplus,
    Pow(f64),
    Square,
    Sum,
    Mean,
    SumDim(usize, bool),
    MeanDim(usize, bool),
    MaxDim(usize, bool),
    Transpose(usize, usize),
    Reverse, // permute to the reversed dim order
    Flatten,
    Contiguous,
    AddScalar(f64),
    MulScalar(f64),
    DivScalar(f64),
    ScalarSub(f64),
    ScalarDivOfSquarePlus(f64),
    Expand,    // broadcast_to a new leading dim of 3
    Unsqueeze, // then squeeze again through a reduction later
    Clamp,
    Narrow(usize),
}

fn step() -> impl Strategy<Value = Step> {
    let dim = 0usize..4;
    prop_oneof![
        Just(Step::Neg),
        Just(Step::Exp),
        Just(Step::LogOfSquarePlus),
        Just(Step::SqrtOfSquarePlus),
        Just(Step::Abs),
        Just(Step::Relu),
        Just(Step::Sigmoid),
        Just(Step::Tanh),
        Just(Step::Softplus),
        prop_oneof![Just(2.0), Just(3.0), Just(-1.0), Just(0.0), Just(1.5)].prop_map(Step::Pow),
        Just(Step::Square),
        Just(Step::Sum),
        Just(Step::Mean),
        (dim.clone(), any::<bool>()).prop_map(|(d, k)| Step::SumDim(d, k)),
        (dim.clone(), any::<bool>()).prop_map(|(d, k)| Step::MeanDim(d, k)),
        (dim.clone(), any::<bool>()).prop_map(|(d, k)| Step::MaxDim(d, k)),
        (dim.clone(), dim).prop_map(|(a, b)| Step::Transpose(a, b)),
        Just(Step::Reverse),
        Just(Step::Flatten),
        Just(Step::Contiguous),
        (-2.0f64..2.0).prop_map(Step::AddScalar),
        (-2.0f64..2.0).prop_map(Step::MulScalar),
        (0.5f64..2.0).prop_map(Step::DivScalar),
        (-2.0f64..2.0).prop_map(Step::ScalarSub),
        (-2.0f64..2.0).prop_map(Step::ScalarDivOfSquarePlus),
        Just(Step::Expand),
        Just(Step::Unsqueeze),
        Just(Step::Clamp),
        (0usize..4).prop_map(Step::Narrow),
    ]
}

fn apply(step: &Step, x: &Tensor<f64>) -> Tensor<f64> {
    let nd = x.ndim();
    let wrap = |d: usize| d % nd.max(1);
    let positive = |x: &Tensor<f64>| x.pow(2.0) + 0.5;
    match step {
        Step::Neg => -x,
        Step::Exp => (x * 0.5).exp(),
        Step::LogOfSquarePlus => positive(x).log(),
        Step::SqrtOfSquarePlus => positive(x).sqrt(),
        Step::Abs => x.abs(),
        Step::Relu => x.relu(),
        Step::Sigmoid => x.sigmoid(),
        Step::Tanh => x.tanh(),
        Step::Softplus => x.softplus(),
        Step::Pow(e) if e.fract() != 0.0 || *e < 0.0 => positive(x).pow(*e),
        Step::Pow(e) => x.pow(*e),
        Step::Square => x * x,
        Step::Sum => x.sum(),
        Step::Mean => x.mean(),
        Step::SumDim(d, k) if nd > 0 => x.sum_dim(wrap(*d), *k),
        Step::MeanDim(d, k) if nd > 0 => x.mean_dim(wrap(*d), *k),
        Step::MaxDim(d, k) if nd > 0 => x.max_dim(wrap(*d), *k).0,
        Step::Transpose(a, b) if nd > 0 => x.transpose(wrap(*a), wrap(*b)),
        Step::Reverse => x.permute(&(0..nd).rev().collect::<Vec<_>>()),
        Step::Flatten => x.reshape(&[x.numel()]),
        Step::Contiguous => x.contiguous(),
        Step::AddScalar(c) => x + *c,
        Step::MulScalar(c) => x * *c,
        Step::DivScalar(c) => x / *c,
        Step::ScalarSub(c) => *c - x,
        Step::ScalarDivOfSquarePlus(c) => *c / positive(x),
        Step::Expand if nd < 4 => {
            let mut shape = vec![3];
            shape.extend_from_slice(x.shape());
            x.broadcast_to(&shape)
        }
        Step::Unsqueeze if nd < 4 => x.unsqueeze(0),
        // Leaves are at least 0.2 from 0 and the bounds sit between leaf values' grid, so
        // no element is within the finite-difference step of a kink.
        Step::Clamp => x.clamp(-1.1, 1.3),
        // The last element of a dim (or the whole dim when it has one), negative dim.
        Step::Narrow(d) if nd > 0 => {
            let dim = wrap(*d);
            let size = x.shape()[dim];
            x.narrow(dim as i64 - nd as i64, size / 2, size - size / 2)
        }
        _ => x.clone(),
    }
}

/// Values away from the kinks of abs/relu at 0 and from max ties: |v| in [0.2, 2].
fn leaf(shape: Vec<usize>) -> impl Strategy<Value = Tensor<f64>> {
    let n: usize = shape.iter().product();
    prop::collection::vec((0.2f64..2.0, any::<bool>()), n).prop_map(move |v| {
        Tensor::from_vec(
            v.into_iter().map(|(m, s)| if s { m } else { -m }).collect(),
            &shape,
        )
    })
}

fn shape() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..4, 0..=3)
}

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn every_unary_op_passes_gradcheck(s in step(), x in shape().prop_flat_map(leaf), transposed in any::<bool>()) {
        // A transposed input reaches the op as a strided view.
        let view = move |t: &Tensor<f64>| if transposed && t.ndim() >= 2 { t.transpose(0, t.ndim() - 1) } else { t.clone() };
        check(|v| apply(&s, &view(&v[0])), std::slice::from_ref(&x))?;
        // And the second derivatives, through backward with create_graph.
        check2(|v| apply(&s, &view(&v[0])), &[x])?;
    }

    #[test]
    fn binary_ops_pass_gradcheck_with_broadcasting(
        (sa, sb) in broadcast_pair(shape()),
        swap in any::<bool>(),
        op in 0usize..5,
        seed in any::<u64>(),
    ) {
        tapegrad::manual_seed(seed);
        let (sa, sb) = if swap { (sb, sa) } else { (sa, sb) };
        let a = Tensor::<f64>::randn(&sa);
        let b = Tensor::<f64>::randn(&sb);
        let f = |v: &[Tensor<f64>]| match op {
            0 => &v[0] + &v[1],
            1 => &v[0] - &v[1],
            2 => &v[0] * &v[1],
            3 => &v[0] / (v[1].pow(2.0) + 0.5),
            _ => {
                let product = &v[0] * &v[1];
                if product.ndim() == 0 { product.sum() } else { product.sum_dim(0, false) }
            }
        };
        check(f, &[a.clone(), b.clone()])?;
        check2(f, &[a, b])?;
    }

    #[test]
    fn matmul_passes_gradcheck_in_every_form(
        m in 1usize..5, k in 1usize..5, n in 1usize..5,
        batch_a in prop::option::of(1usize..3), batch_b in prop::option::of(1usize..3),
        vector_a in any::<bool>(), vector_b in any::<bool>(),
        transpose_a in any::<bool>(), transpose_b in any::<bool>(),
        seed in any::<u64>(),
    ) {
        tapegrad::manual_seed(seed);
        // Batch dims: [batch_a, m, k] x [batch_b, k, n] broadcast when one of them is 1.
        let batch_b = match (batch_a, batch_b) { (Some(a), Some(b)) if a != b => Some(1), (_, b) => b };
        let make = |rows: usize, cols: usize, batch: Option<usize>, vector: bool, transposed: bool| {
            if vector { return (Tensor::<f64>::randn(&[if rows == 1 { cols } else { rows }]), false); }
            let mut shape: Vec<usize> = batch.into_iter().collect();
            shape.extend(if transposed { [cols, rows] } else { [rows, cols] });
            (Tensor::<f64>::randn(&shape), transposed)
        };
        let (a, ta) = make(m, k, batch_a, vector_a && batch_a.is_none(), transpose_a);
        let (b, tb) = make(k, n, batch_b, vector_b && batch_b.is_none(), transpose_b);
        let (a, b) = if a.ndim() == 1 { (Tensor::randn(&[k]), b) } else { (a, b) };
        let b = if b.ndim() == 1 { Tensor::randn(&[k]) } else { b };
        let last2 = |t: &Tensor<f64>, flip: bool| if flip { t.transpose(t.ndim() - 2, t.ndim() - 1) } else { t.clone() };
        check(|v| last2(&v[0], ta && v[0].ndim() >= 2).matmul(&last2(&v[1], tb && v[1].ndim() >= 2)), &[a, b])?;
    }

    #[test]
    fn random_compositions_pass_gradcheck(
        (sa, sb) in broadcast_pair(shape()),
        steps in prop::collection::vec(step(), 1..5),
        op in 0usize..3,
        seed in any::<u64>(),
    ) {
        tapegrad::manual_seed(seed);
        let a = Tensor::<f64>::randn(&sa);
        let b = Tensor::<f64>::randn(&sb);
        check(|v| {
            let mut x = match op { 0 => &v[0] + &v[1], 1 => &v[0] * &v[1], _ => (&v[0] - &v[1]).tanh() };
            for s in &steps {
                // tanh keeps every intermediate within [-2, 2]: chained pow and exp could
                // otherwise reach magnitudes where finite differences round to nothing.
                x = apply(s, &x).tanh() * 2.0;
            }
            // Use x twice so the gradients of a shared value must add up.
            &x * &x.sigmoid()
        }, &[a, b])?;
    }
}

#[test]
fn gradcheck_reports_a_wrong_gradient() {
    // A function whose backward is deliberately not its derivative: detach hides half of it.
    let x = Tensor::<f64>::from_vec(vec![0.5, 1.5], &[2]);
    let report = gradcheck(
        |v| &v[0] * &v[0].detach(),
        &[x],
        GradcheckOptions::default(),
    );
    assert!(!report.passed);
    let (input, _element, analytic, numeric) = report.worst.unwrap();
    assert_eq!(input, 0);
    assert!((numeric - 2.0 * analytic).abs() < 1e-6, "{report}");
    assert!(
        report
            .to_string()
            .starts_with("gradcheck FAILED on 2 elements; worst: input 0"),
        "{report}"
    );
}

#[test]
fn gradgradcheck_reports_a_wrong_second_derivative() {
    // x · detach(x): backward says d/dx = detach(x), whose recorded derivative is 0, but
    // the first derivative moves with x (finite differences give 1 per element).
    let x = Tensor::<f64>::from_vec(vec![0.5, -1.5], &[2]);
    let e = tapegrad::autograd::gradgradcheck(|v| &v[0] * &v[0].detach(), std::slice::from_ref(&x))
        .unwrap_err()
        .to_string();
    assert!(e.contains("gradgradcheck") && e.contains("FAILED"), "{e}");
    tapegrad::autograd::gradgradcheck(|v| &v[0] * &v[0], &[x]).unwrap();
}
