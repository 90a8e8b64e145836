//! Every differentiable op of issue 7 passes `gradcheck` (central finite differences in
//! f64) over random shapes, on contiguous and transposed (strided) inputs, and the binary
//! ones with broadcast operands.

#[path = "support/gradcheck_props.rs"]
mod gradcheck_props;
#[path = "support/proptest_config.rs"]
mod proptest_config;

use gradcheck_props::{broadcast_pair, check, check2};
use proptest::prelude::*;
use proptest_config::config;
use tapegrad::Tensor;

#[derive(Debug, Clone, Copy)]
enum Step {
    Sin,
    Cos,
    Tan,
    Log1p,
    Expm1,
    Log2,
    Log10,
    Exp2,
    Recip,
    Rsqrt,
    Square,
    LeakyRelu,
    Elu,
    Selu,
    Gelu,
    GeluTanh,
    Silu,
    Mish,
    Hardtanh,
    LogSigmoid,
    Softsign,
    Prod,
    ProdDim(usize, bool),
    Var,
    Std,
    VarDim(usize, bool),
    StdDim(usize, bool),
    LogSumExp(usize, bool),
    Cumsum(usize),
    Cumprod(usize),
    Norm,
    NormDim(usize, bool),
    Max,
    Min,
    MinDim(usize, bool),
    Sort(usize, bool),
    Topk(usize),
    Flip(usize),
    Pad,
    Tril(i64),
    Triu(i64),
    Repeat,
    IndexSelect(usize),
    Gather(usize),
    ScatterAdd(usize),
    MaskedFill,
    MaskedSelect,
    Select(usize),
    Index,
    Flatten,
    Squeeze,
    SplitCat(usize),
    ChunkStack(usize),
}

fn step() -> impl Strategy<Value = Step> {
    let d = 0usize..4;
    let dk = (0usize..4, any::<bool>());
    prop_oneof![
        prop_oneof![
            Just(Step::Sin),
            Just(Step::Cos),
            Just(Step::Tan),
            Just(Step::Log1p),
            Just(Step::Expm1),
            Just(Step::Log2),
            Just(Step::Log10),
            Just(Step::Exp2),
            Just(Step::Recip),
            Just(Step::Rsqrt),
            Just(Step::Square),
        ],
        prop_oneof![
            Just(Step::LeakyRelu),
            Just(Step::Elu),
            Just(Step::Selu),
            Just(Step::Gelu),
            Just(Step::GeluTanh),
            Just(Step::Silu),
            Just(Step::Mish),
            Just(Step::Hardtanh),
            Just(Step::LogSigmoid),
            Just(Step::Softsign),
        ],
        prop_oneof![
            Just(Step::Prod),
            dk.clone().prop_map(|(d, k)| Step::ProdDim(d, k)),
            Just(Step::Var),
            Just(Step::Std),
            dk.clone().prop_map(|(d, k)| Step::VarDim(d, k)),
            dk.clone().prop_map(|(d, k)| Step::StdDim(d, k)),
            dk.clone().prop_map(|(d, k)| Step::LogSumExp(d, k)),
            d.clone().prop_map(Step::Cumsum),
            d.clone().prop_map(Step::Cumprod),
            Just(Step::Norm),
            dk.clone().prop_map(|(d, k)| Step::NormDim(d, k)),
            Just(Step::Max),
            Just(Step::Min),
            dk.prop_map(|(d, k)| Step::MinDim(d, k)),
        ],
        prop_oneof![
            (d.clone(), any::<bool>()).prop_map(|(d, k)| Step::Sort(d, k)),
            d.clone().prop_map(Step::Topk),
            d.clone().prop_map(Step::Flip),
            Just(Step::Pad),
            (-1i64..2).prop_map(Step::Tril),
            (-1i64..2).prop_map(Step::Triu),
            Just(Step::Repeat),
            d.clone().prop_map(Step::IndexSelect),
            d.clone().prop_map(Step::Gather),
            d.clone().prop_map(Step::ScatterAdd),
            Just(Step::MaskedFill),
            Just(Step::MaskedSelect),
            d.clone().prop_map(Step::Select),
            Just(Step::Index),
            Just(Step::Flatten),
            Just(Step::Squeeze),
            d.clone().prop_map(Step::SplitCat),
            d.prop_map(Step::ChunkStack),
        ],
    ]
}

/// An index tensor for `dim` of `x`: the last position, the first, the last again.
fn lane_index(x: &Tensor<f64>, dim: usize) -> Tensor<i64> {
    let last = x.shape()[dim] as i64 - 1;
    Tensor::from_vec(vec![last, 0, last], &[3])
}

/// A gather index of `x`'s shape: position p picks (p + 1) mod the dim's size.
fn gather_index(x: &Tensor<f64>, dim: usize) -> Tensor<i64> {
    let n = x.shape()[dim] as i64;
    let count = x.numel();
    Tensor::from_vec((0..count as i64).map(|p| (p + 1) % n).collect(), x.shape())
}

fn apply(step: Step, x: &Tensor<f64>) -> Tensor<f64> {
    let nd = x.ndim();
    let wrap = |d: usize| d % nd.max(1);
    let positive = |x: &Tensor<f64>| x.square() + 0.5;
    match step {
        Step::Sin => x.sin(),
        Step::Cos => x.cos(),
        Step::Tan => (x * 0.4).tan(),
        Step::Log1p => positive(x).log1p(),
        Step::Expm1 => x.expm1(),
        Step::Log2 => positive(x).log2(),
        Step::Log10 => positive(x).log10(),
        Step::Exp2 => x.exp2(),
        Step::Recip => positive(x).recip(),
        Step::Rsqrt => positive(x).rsqrt(),
        Step::Square => x.square(),
        Step::LeakyRelu => x.leaky_relu(0.1),
        Step::Elu => x.elu(1.3),
        Step::Selu => x.selu(),
        Step::Gelu => x.gelu(),
        Step::GeluTanh => x.gelu_tanh(),
        Step::Silu => x.silu(),
        Step::Mish => x.mish(),
        // Bounds between the leaves' grid values, away from any element.
        Step::Hardtanh => x.hardtanh(-1.125, 1.325),
        Step::LogSigmoid => x.log_sigmoid(),
        Step::Softsign => x.softsign(),
        Step::Prod => x.prod(),
        Step::ProdDim(d, k) if nd > 0 => x.prod_dim(wrap(d), k),
        Step::Var if x.numel() > 1 => x.var(),
        Step::Std if x.numel() > 1 => x.std(),
        Step::VarDim(d, k) if nd > 0 && x.shape()[wrap(d)] > 1 => x.var_dim(wrap(d), k),
        Step::StdDim(d, k) if nd > 0 && x.shape()[wrap(d)] > 1 => x.std_dim(wrap(d), k),
        Step::LogSumExp(d, k) if nd > 0 => x.logsumexp(wrap(d), k),
        Step::Cumsum(d) if nd > 0 => x.cumsum(wrap(d)),
        Step::Cumprod(d) if nd > 0 => x.cumprod(wrap(d)),
        Step::Norm => x.norm(),
        Step::NormDim(d, k) if nd > 0 => x.norm_dim(wrap(d), k),
        Step::Max => x.max(),
        Step::Min => x.min(),
        Step::MinDim(d, k) if nd > 0 => x.min_dim(wrap(d), k).0,
        Step::Sort(d, descending) if nd > 0 => x.sort(wrap(d), descending).0,
        Step::Topk(d) if nd > 0 => {
            let k = x.shape()[wrap(d)].div_ceil(2);
            x.topk(k, wrap(d)).0
        }
        Step::Flip(d) if nd > 0 => x.flip(&[wrap(d) as i64]),
        Step::Pad => x.pad(&vec![(1, 2); nd], -0.5),
        Step::Tril(k) if nd >= 2 => x.tril(k),
        Step::Triu(k) if nd >= 2 => x.triu(k),
        Step::Repeat => x.repeat(&vec![2; nd + 1]),
        Step::IndexSelect(d) if nd > 0 => x.index_select(wrap(d), &lane_index(x, wrap(d))),
        Step::Gather(d) if nd > 0 => x.gather(wrap(d), &gather_index(x, wrap(d))),
        Step::ScatterAdd(d) if nd > 0 => {
            let src = x * 1.5 + 0.25;
            x.scatter_add(wrap(d), &gather_index(x, wrap(d)), &src)
        }
        Step::MaskedFill => x.masked_fill(&x.gt(0.0), 2.5),
        Step::MaskedSelect => x.masked_select(&x.lt(0.0)),
        Step::Select(d) if nd > 0 => x.select(wrap(d), x.shape()[wrap(d)] - 1),
        Step::Index if nd >= 2 => x.i((.., 1.min(x.shape()[1] - 1)..)),
        Step::Flatten => x.flatten(0, -1),
        Step::Squeeze => x.squeeze(),
        Step::SplitCat(d) if nd > 0 => {
            let parts = x.split(2, wrap(d));
            let flipped: Vec<&Tensor<f64>> = parts.iter().rev().collect();
            Tensor::cat(&flipped, wrap(d))
        }
        Step::ChunkStack(d) if nd > 0 => {
            let parts = x.chunk(1, wrap(d));
            Tensor::stack(&[&parts[0], &(&parts[0] * 2.0)], wrap(d))
        }
        _ => x.sin(),
    }
}

/// Values away from kinks and ties: |v| in [0.2, 2] on a grid of 0.05, distinct.
fn leaf(shape: Vec<usize>) -> impl Strategy<Value = Tensor<f64>> {
    let n: usize = shape.iter().product();
    Just(()).prop_perturb(move |_, mut rng| {
        let mut grid: Vec<f64> = (4..=40)
            .flat_map(|k| [k as f64 * 0.05, -(k as f64) * 0.05])
            .collect();
        // A random distinct draw: no two elements tie (sort, max and min stay smooth).
        for i in (1..grid.len()).rev() {
            let j = (rng.next_u64() % (i as u64 + 1)) as usize;
            grid.swap(i, j);
        }
        Tensor::from_vec(grid[..n].to_vec(), &shape)
    })
}

/// Shapes of 0 to 3 dims, mostly of 2 or more elements per dim (a size-1 dim hides a
/// wrong scan or sort), some of 1.
fn shape() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(prop_oneof![1 => Just(1usize), 4 => 2usize..5], 0..=3)
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn every_new_op_passes_gradcheck(s in step(), x in shape().prop_flat_map(leaf), transposed in any::<bool>()) {
        let view = move |t: &Tensor<f64>| if transposed && t.ndim() >= 2 { t.transpose(0, t.ndim() - 1) } else { t.clone() };
        check(|v| apply(s, &view(&v[0])), &[x])?;
    }

    #[test]
    fn binary_ops_pass_gradcheck_with_broadcasting(
        (sa, sb) in broadcast_pair(shape()),
        swap in any::<bool>(),
        op in 0usize..4,
        seed in any::<u64>(),
    ) {
        tapegrad::manual_seed(seed);
        let (sa, sb) = if swap { (sb, sa) } else { (sa, sb) };
        // Random normals do not tie; maximum's kink (a == b) has probability 0.
        let a = Tensor::<f64>::randn(&sa);
        let b = Tensor::<f64>::randn(&sb);
        check(
            |v| match op {
                0 => v[0].maximum(&v[1]),
                1 => v[0].minimum(&v[1]),
                2 => (v[0].square() + 0.5).pow_tensor(&v[1]),
                _ => v[0].gt(&v[1]).where_cond(&v[0].sin(), &v[1].cos()),
            },
            &[a, b],
        )?;
    }
}

// Second derivatives of the same ops. cumprod's second derivative is not written:
// differentiating it twice must be an error (tests/higher_order.rs checks it).
proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn every_new_op_passes_gradgradcheck(s in step(), x in shape().prop_flat_map(leaf), transposed in any::<bool>()) {
        prop_assume!(!matches!(s, Step::Cumprod(_)));
        let view = move |t: &Tensor<f64>| if transposed && t.ndim() >= 2 { t.transpose(0, t.ndim() - 1) } else { t.clone() };
        check2(|v| apply(s, &view(&v[0])), &[x])?;
    }
}
