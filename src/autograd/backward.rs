//! Every chain rule, in one `match`: read it like a table of derivatives.
//!
//! Each rule receives the gradient `g` of the op's output and returns the gradient of each
//! input that needs one. Rules are written over [`GradValue`], which only knows how to
//! apply an [`Op`] to values: eager backward instantiates it with arrays (computing right
//! away), the static graph with graph nodes (building gradient nodes). One set of rules
//! serves both.

use super::op::Op;
use crate::shape::Shape;
use num_traits::Float;
use smallvec::{smallvec, SmallVec};

/// A value the gradient rules can compute with: anything that an [`Op`] can be applied to.
pub(crate) trait GradValue<T: Float>: Clone {
    fn shape(&self) -> &[usize];
    /// Applies `op`; the rules only build shape-consistent ops, so this cannot fail.
    fn apply(op: Op<T>, inputs: &[&Self]) -> Self;
    /// True for a 2-D value stored column-major (a transposed view, like `w.t()` in
    /// `x.matmul(&w.t())`): its gradient is best made in the same layout, so it lands in
    /// the parameter's own row-major order without a transposing copy.
    fn is_column_major(&self) -> bool {
        false
    }
}

/// What a rule may read. `inputs[i]` / `output` are present when `Op::saves` asked for them.
pub(crate) struct RuleArgs<'a, T: Float, V> {
    pub op: &'a Op<T>,
    pub inputs: &'a [Option<V>],
    pub output: Option<&'a V>,
    pub input_shapes: &'a [Shape],
    pub needs: &'a [bool],
}

pub(crate) type InputGrads<V> = SmallVec<[Option<V>; 3]>;

/// Gradients of the op's inputs given `g`, the gradient of its output.
pub(crate) fn input_grads<T: Float, V: GradValue<T>>(
    args: &RuleArgs<'_, T, V>,
    g: &V,
) -> InputGrads<V> {
    let RuleArgs {
        op,
        input_shapes: shapes,
        needs,
        ..
    } = *args;
    // Short names so each rule reads like its formula.
    let ap = |op: Op<T>, xs: &[&V]| V::apply(op, xs);
    let mul = |a: &V, b: &V| ap(Op::Mul, &[a, b]);
    let div = |a: &V, b: &V| ap(Op::Div, &[a, b]);
    let scale = |a: &V, c: T| ap(Op::MulScalar(c), &[a]);
    let neg = |a: &V| ap(Op::Neg, &[a]);
    let expand = |a: &V, to: &Shape| {
        if a.shape() == to.as_slice() {
            a.clone()
        } else {
            ap(Op::Expand(to.clone()), &[a])
        }
    };
    let sum_to = |a: &V, to: &Shape| {
        if a.shape() == to.as_slice() {
            a.clone()
        } else {
            ap(Op::SumTo(to.clone()), &[a])
        }
    };
    let x = |i: usize| {
        args.inputs[i]
            .as_ref()
            .expect("backward: op did not save its input")
    };
    let y = || args.output.expect("backward: op did not save its output");
    let need = |i: usize| needs.get(i).copied().unwrap_or(false);
    let one = T::one();
    let two = one + one;
    // A reduced gradient with its dim put back, so it broadcasts against the input.
    let unsqueeze = |g: &V, dim: usize, keepdim: bool| {
        if keepdim {
            g.clone()
        } else {
            let mut s = shapes[0].clone();
            s[dim] = 1;
            ap(Op::Reshape(s), &[g])
        }
    };
    let count = |n: usize| T::from(n).unwrap_or_else(T::nan);
    // Swap the last two dims (the matrix dims of a batched operand).
    let mt = |a: &V| {
        let nd = a.shape().len();
        ap(Op::Transpose(nd - 2, nd - 1), &[a])
    };

    let one_input = |grad: V| -> InputGrads<V> { smallvec![need(0).then_some(grad)] };
    match op {
        // d(a+b) = da + db; broadcasting is undone by summing back to each input's shape.
        Op::Add => smallvec![
            need(0).then(|| sum_to(g, &shapes[0])),
            need(1).then(|| sum_to(g, &shapes[1])),
        ],
        Op::Sub => smallvec![
            need(0).then(|| sum_to(g, &shapes[0])),
            need(1).then(|| sum_to(&neg(g), &shapes[1])),
        ],
        Op::Mul => smallvec![
            need(0).then(|| sum_to(&mul(g, x(1)), &shapes[0])),
            need(1).then(|| sum_to(&mul(g, x(0)), &shapes[1])),
        ],
        // d(a/b) = da/b - a db/b²
        Op::Div => smallvec![
            need(0).then(|| sum_to(&div(g, x(1)), &shapes[0])),
            need(1).then(|| sum_to(&neg(&div(&mul(g, x(0)), &mul(x(1), x(1)))), &shapes[1])),
        ],
        Op::AddScalar(_) | Op::Contiguous => one_input(g.clone()),
        Op::MulScalar(c) => one_input(scale(g, *c)),
        Op::DivScalar(c) => one_input(ap(Op::DivScalar(*c), &[g])),
        Op::ScalarSub(_) | Op::Neg => one_input(neg(g)),
        // d(c/x) = -c/x² = -y/x
        Op::ScalarDiv(_) => one_input(neg(&div(&mul(g, y()), x(0)))),
        // d(x^e) = e x^(e-1); PyTorch gives exactly 0 for e = 0, even where x^-1 is inf.
        Op::Pow(e) if *e == T::zero() => one_input(scale(g, T::zero())),
        // e = 2 (the lecture's square) skips the x^1 copy: 2x, exactly as PyTorch computes it.
        Op::Pow(e) if *e == two => one_input(mul(g, &scale(x(0), two))),
        Op::Pow(e) => one_input(mul(g, &scale(&ap(Op::Pow(*e - one), &[x(0)]), *e))),
        Op::Exp => one_input(mul(g, y())),
        Op::Log => one_input(div(g, x(0))),
        // d(√x) = 1 / (2√x)
        Op::Sqrt => one_input(div(g, &scale(y(), two))),
        Op::Abs => one_input(mul(g, &ap(Op::Sign, &[x(0)]))),
        // Like PyTorch's threshold_backward: select, not multiply, so 0 * inf cannot leak in.
        Op::Relu => one_input(ap(Op::WherePositive, &[g, y()])),
        // σ' = σ(1 - σ)
        Op::Sigmoid => one_input(mul(g, &mul(y(), &ap(Op::ScalarSub(one), &[y()])))),
        // softplus' = σ(x), smooth everywhere (no kink at 0, unlike its max/abs formula)
        Op::Softplus => one_input(mul(g, &ap(Op::Sigmoid, &[x(0)]))),
        // tanh' = 1 - tanh²
        Op::Tanh => one_input(mul(g, &ap(Op::ScalarSub(one), &[&mul(y(), y())]))),
        Op::Sum | Op::SumTo(_) => one_input(expand(g, &shapes[0])),
        Op::Mean => one_input(scale(
            &expand(g, &shapes[0]),
            one / count(shapes[0].iter().product()),
        )),
        Op::SumDim { dim, keepdim } => one_input(expand(&unsqueeze(g, *dim, *keepdim), &shapes[0])),
        Op::MeanDim { dim, keepdim } => one_input(scale(
            &expand(&unsqueeze(g, *dim, *keepdim), &shapes[0]),
            one / count(shapes[0][*dim]),
        )),
        // The gradient goes to the element that was picked, like PyTorch's max(dim).
        Op::MaxDim { dim, keepdim } => {
            let index = ap(
                Op::ArgMaxDim {
                    dim: *dim,
                    keepdim: true,
                },
                &[x(0)],
            );
            let mask = ap(
                Op::IndexMask {
                    dim: *dim,
                    len: shapes[0][*dim],
                },
                &[&index],
            );
            one_input(mul(
                &expand(&unsqueeze(g, *dim, *keepdim), &shapes[0]),
                &mask,
            ))
        }
        // C = A B:  dA = dC Bᵀ,  dB = Aᵀ dC  (summed over broadcast batch dims).
        // A column-major 2-D B times a 2-D A (a Linear layer's `x.matmul(&w.t())`) gets
        // dB = (dCᵀ A)ᵀ: the same numbers, computed in B's own layout.
        Op::MatMul => smallvec![
            need(0).then(|| sum_to(&ap(Op::MatMul, &[g, &mt(x(1))]), &shapes[0])),
            need(1).then(|| {
                if x(1).is_column_major() && shapes[0].len() == 2 {
                    mt(&ap(Op::MatMul, &[&mt(g), x(0)]))
                } else {
                    sum_to(&ap(Op::MatMul, &[&mt(x(0)), g]), &shapes[1])
                }
            }),
        ],
        // y = x wᵀ + b:  dx = dy w,  dw = dyᵀ x (batch dims flattened into rows),  db = Σ dy.
        Op::Linear { bias } => {
            let (w_shape, x_shape) = (&shapes[1], &shapes[0]);
            let (out, inner) = (w_shape[0], w_shape[1]);
            let rows = x_shape.iter().product::<usize>() / inner.max(1);
            let flat = |v: &V, cols: usize| {
                if v.shape().len() == 2 {
                    v.clone()
                } else {
                    ap(Op::Reshape(smallvec![rows, cols]), &[v])
                }
            };
            let mut grads: InputGrads<V> = smallvec![
                need(0).then(|| ap(Op::MatMul, &[g, x(1)])),
                need(1).then(|| ap(Op::MatMul, &[&mt(&flat(g, out)), &flat(x(0), inner)])),
            ];
            if *bias {
                grads.push(need(2).then(|| sum_to(g, &shapes[2])));
            }
            grads
        }
        // As PyTorch's mse_loss_backward: (a - b) · (2/n or 2) · g, and its negative for b.
        Op::MseLoss { mean } => {
            let n = shapes[0].iter().product::<usize>();
            let norm = if *mean { two / count(n) } else { two };
            let da = ap(Op::MseLossGrad { norm }, &[x(0), x(1), g]);
            let db = need(1).then(|| neg(&da));
            smallvec![need(0).then_some(da), db]
        }
        Op::Transpose(d0, d1) => one_input(ap(Op::Transpose(*d0, *d1), &[g])),
        Op::Permute(dims) => {
            let mut inverse: Shape = smallvec![0; dims.len()];
            for (i, &d) in dims.iter().enumerate() {
                inverse[d] = i;
            }
            one_input(ap(Op::Permute(inverse), &[g]))
        }
        Op::Reshape(_) => one_input(ap(Op::Reshape(shapes[0].clone()), &[g])),
        Op::Expand(_) => one_input(sum_to(g, &shapes[0])),
        // Piecewise-constant helpers: zero almost everywhere, and never recorded on a tape.
        Op::WherePositive => smallvec![None, None],
        Op::MseLossGrad { .. } => smallvec![None, None, None],
        Op::Sign | Op::ArgMaxDim { .. } | Op::IndexMask { .. } => smallvec![None],
    }
}
