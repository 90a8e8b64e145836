//! The vocabulary of differentiable ops.
//!
//! Every tensor op is one `Op` applied to input arrays by [`Op::eval`]; a recorded node
//! stores its `Op`, and `backward.rs` holds the chain rule of each. The static graph
//! (the `graph` module) builds its nodes from the same enum and evaluates them with the
//! same `eval`, so eager and static computation can never drift apart.

use crate::array::{self, Array};
use crate::error::{Error, Result};
use crate::shape::{
    check_broadcast_to, check_dim, matmul_shape, numel, reduced_shape, shape_of, Shape,
};
use num_traits::Float;

/// One differentiable operation (plus a few value-only helpers used inside gradient rules).
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum Op<T> {
    // Binary, with NumPy broadcasting.
    Add,
    Sub,
    Mul,
    Div,
    // With a scalar operand: x + c, x * c, x / c, c - x, c / x.
    AddScalar(T),
    MulScalar(T),
    DivScalar(T),
    ScalarSub(T),
    ScalarDiv(T),
    // Unary.
    Neg,
    Pow(T),
    Exp,
    Log,
    Sqrt,
    Abs,
    Relu,
    Sigmoid,
    Tanh,
    /// `ln(1 + e^x)`, computed without overflow (the smooth ReLU; the base of stable BCE).
    Softplus,
    // Reductions.
    Sum,
    Mean,
    SumDim {
        dim: usize,
        keepdim: bool,
    },
    MeanDim {
        dim: usize,
        keepdim: bool,
    },
    MaxDim {
        dim: usize,
        keepdim: bool,
    },
    /// Sums a broadcast value back down to `shape` (the adjoint of `Expand`).
    SumTo(Shape),
    /// Batched matmul `[..., m, k] x [..., k, n]` with broadcast batch dims.
    MatMul,
    /// `x wᵀ (+ b)`: a `Linear` layer as one node. Inputs `x` `[..., in]` (2-D or more),
    /// `w` `[out, in]`, and `b` `[out]` if `bias`.
    Linear {
        bias: bool,
    },
    /// `sum((a - b)²)`, divided by the element count if `mean`: `mse_loss` as one node
    /// (inputs of one shape, no broadcasting).
    MseLoss {
        mean: bool,
    },
    // Views: no copy in the forward pass.
    Transpose(usize, usize),
    Permute(Shape),
    Reshape(Shape),
    Expand(Shape),
    Contiguous,
    // Value-only helpers for gradient rules; they have no gradient themselves.
    /// `a` where `b > 0`, else 0 (a select, so an infinite `a` where `b <= 0` still gives 0).
    WherePositive,
    /// -1, 0 or 1 (NaN stays NaN).
    Sign,
    /// `mse_loss`'s input gradient from (input, target, output gradient):
    /// `(input - target) · norm · g`, one pass, in PyTorch's order of operations.
    MseLossGrad {
        norm: T,
    },
    ArgMaxDim {
        dim: usize,
        keepdim: bool,
    },
    /// From indices with `dim` of size 1: a 0/1 mask of size `len` along `dim`, 1 at the index.
    IndexMask {
        dim: usize,
        len: usize,
    },
}

/// `Linear`'s output shape: `x` `[..., in]` (at least 2-D), `w` `[out, in]`, `b` `[out]`.
fn linear_shape(
    name: &'static str,
    x: &[usize],
    w: &[usize],
    b: Option<&[usize]>,
) -> Result<Shape> {
    let (&[out, inner], Some((&features, batch))) = (w, x.split_last()) else {
        return Err(Error::shape(
            name,
            format!("expected an input of 2 or more dims and a 2-D weight, got {x:?} and {w:?}"),
        ));
    };
    if x.len() < 2 || features != inner {
        return Err(Error::shape(
            name,
            format!(
                "input of shape {x:?} does not fit weight {w:?} (its last dim must be {inner})"
            ),
        ));
    }
    if let Some(b) = b.filter(|b| *b != [out]) {
        return Err(Error::shape(
            name,
            format!("bias must have shape [{out}] to match weight {w:?}, got {b:?}"),
        ));
    }
    let mut shape = shape_of(batch);
    shape.push(out);
    Ok(shape)
}

impl<T: Float> Op<T> {
    /// The op's name as users call it: used in errors, `Display` and DOT pictures.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Add | Op::AddScalar(_) => "add",
            Op::Sub | Op::ScalarSub(_) => "sub",
            Op::Mul | Op::MulScalar(_) => "mul",
            Op::Div | Op::DivScalar(_) | Op::ScalarDiv(_) => "div",
            Op::Neg => "neg",
            Op::Pow(_) => "pow",
            Op::Exp => "exp",
            Op::Log => "log",
            Op::Sqrt => "sqrt",
            Op::Abs => "abs",
            Op::Relu => "relu",
            Op::Sigmoid => "sigmoid",
            Op::Tanh => "tanh",
            Op::Softplus => "softplus",
            Op::Sum => "sum",
            Op::Mean => "mean",
            Op::SumDim { .. } => "sum_dim",
            Op::MeanDim { .. } => "mean_dim",
            Op::MaxDim { .. } => "max_dim",
            Op::SumTo(_) => "sum_to",
            Op::MatMul => "matmul",
            Op::MseLoss { .. } => "mse_loss",
            Op::Linear { .. } => "linear",
            Op::Transpose(..) => "transpose",
            Op::Permute(_) => "permute",
            Op::Reshape(_) => "reshape",
            Op::Expand(_) => "broadcast_to",
            Op::Contiguous => "contiguous",
            Op::WherePositive => "where_positive",
            Op::Sign => "sign",
            Op::MseLossGrad { .. } => "mse_loss_backward",
            Op::ArgMaxDim { .. } => "argmax_dim",
            Op::IndexMask { .. } => "index_mask",
        }
    }

    /// How many inputs the op takes.
    pub fn arity(&self) -> usize {
        match self {
            Op::Add
            | Op::Sub
            | Op::Mul
            | Op::Div
            | Op::MatMul
            | Op::MseLoss { .. }
            | Op::WherePositive => 2,
            Op::Linear { bias } => 2 + usize::from(*bias),
            Op::MseLossGrad { .. } => 3,
            _ => 1,
        }
    }

    /// Whether backward needs the input values and/or the output value (everything else it
    /// needs is a shape, which nodes always keep).
    pub(crate) fn saves(&self) -> (bool, bool) {
        match self {
            Op::Mul
            | Op::Div
            | Op::Pow(_)
            | Op::Log
            | Op::Abs
            | Op::Softplus
            | Op::MaxDim { .. }
            | Op::MseLoss { .. }
            | Op::Linear { .. }
            | Op::MatMul => (true, false),
            Op::ScalarDiv(_) => (true, true),
            Op::Exp | Op::Sqrt | Op::Relu | Op::Sigmoid | Op::Tanh => (false, true),
            _ => (false, false),
        }
    }

    /// The output shape for inputs of these shapes, or the error `eval` would give.
    /// The static graph calls this while it is built, so shape errors surface early.
    pub fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        let name = self.name();
        let s = shapes[0];
        Ok(match self {
            Op::Add | Op::Sub | Op::Mul | Op::Div => {
                crate::shape::broadcast_shapes(name, s, shapes[1])?
            }
            Op::MatMul => matmul_shape(name, s, shapes[1])?,
            Op::Linear { bias } => linear_shape(name, s, shapes[1], bias.then(|| shapes[2]))?,
            Op::MseLoss { .. } => {
                if s != shapes[1] {
                    return Err(Error::shape(
                        name,
                        format!(
                            "input shape {s:?} and target shape {:?} differ (losses do not broadcast; \
                             reshape one of them)",
                            shapes[1]
                        ),
                    ));
                }
                Shape::new()
            }
            Op::Sum | Op::Mean => Shape::new(),
            Op::SumDim { dim, keepdim }
            | Op::MeanDim { dim, keepdim }
            | Op::ArgMaxDim { dim, keepdim } => {
                check_dim(name, *dim, s)?;
                reduced_shape(s, *dim, *keepdim)
            }
            Op::MaxDim { dim, keepdim } => {
                check_dim(name, *dim, s)?;
                if s[*dim] == 0 {
                    return Err(Error::shape(
                        name,
                        format!("cannot take the max of an empty dim {dim} of {s:?}"),
                    ));
                }
                reduced_shape(s, *dim, *keepdim)
            }
            Op::SumTo(to) => {
                check_broadcast_to(name, to, s)?;
                to.clone()
            }
            Op::Expand(to) => {
                check_broadcast_to(name, s, to)?;
                to.clone()
            }
            Op::Transpose(d0, d1) => {
                check_dim(name, *d0, s)?;
                check_dim(name, *d1, s)?;
                let mut out = shape_of(s);
                out.swap(*d0, *d1);
                out
            }
            Op::Permute(dims) => {
                let mut seen: Shape = smallvec::smallvec![0; s.len()];
                let valid = dims.len() == s.len()
                    && dims
                        .iter()
                        .all(|&d| d < s.len() && std::mem::replace(&mut seen[d], 1) == 0);
                if !valid {
                    return Err(Error::shape(
                        name,
                        format!("{dims:?} is not a permutation of the dims of {s:?}"),
                    ));
                }
                dims.iter().map(|&d| s[d]).collect()
            }
            Op::Reshape(to) => {
                if numel(to) != numel(s) {
                    return Err(Error::shape(
                        name,
                        format!(
                            "cannot reshape {s:?} ({} elements) to {to:?} ({} elements)",
                            numel(s),
                            numel(to)
                        ),
                    ));
                }
                to.clone()
            }
            Op::IndexMask { dim, len } => {
                check_dim(name, *dim, s)?;
                let mut out = shape_of(s);
                out[*dim] = *len;
                out
            }
            _ => shape_of(s),
        })
    }

    /// Computes the op on arrays: the one forward implementation, shared by eager tensors
    /// and the static graph.
    pub(crate) fn eval(&self, x: &[&Array<T>]) -> Result<Array<T>> {
        let name = self.name();
        let a = x[0];
        Ok(match self {
            Op::Add => array::zip_map(name, a, x[1], |p, q| p + q)?,
            Op::Sub => array::zip_map(name, a, x[1], |p, q| p - q)?,
            Op::Mul => array::zip_map(name, a, x[1], |p, q| p * q)?,
            Op::Div => array::zip_map(name, a, x[1], |p, q| p / q)?,
            &Op::AddScalar(c) => array::map(a, move |p| p + c),
            &Op::MulScalar(c) => array::map(a, move |p| p * c),
            &Op::DivScalar(c) => array::map(a, move |p| p / c),
            &Op::ScalarSub(c) => array::map(a, move |p| c - p),
            &Op::ScalarDiv(c) => array::map(a, move |p| c / p),
            Op::Neg => array::map(a, |p| -p),
            &Op::Pow(e) => pow(a, e),
            Op::Exp => array::map(a, T::exp),
            Op::Log => array::map(a, T::ln),
            Op::Sqrt => array::map(a, T::sqrt),
            Op::Abs => array::map(a, T::abs),
            // NaN propagates, as in PyTorch (`max(NaN, 0)` would hide it).
            Op::Relu => array::map(a, |p| if p < T::zero() { T::zero() } else { p }),
            Op::Sigmoid => array::map(a, sigmoid),
            Op::Tanh => array::map(a, T::tanh),
            // max(x, 0) + ln(1 + e^-|x|): e^-|x| <= 1, so nothing overflows for any x.
            Op::Softplus => array::map(a, |p| p.max(T::zero()) + (-p.abs()).exp().ln_1p()),
            &Op::Linear { bias } => {
                let w = x[1];
                linear_shape(name, a.shape(), w.shape(), bias.then(|| x[2].shape()))?;
                // wᵀ is a view: the GEMM reads w's rows as columns, no copy.
                let y = array::matmul(name, a, &w.with_layout(w.layout().transpose(0, 1)))?;
                if bias {
                    // `y` is fresh and unshared: add the bias to each row in place.
                    array::apply_inplace(&y, x[2], |p, c| p + c);
                }
                y
            }
            &Op::MseLoss { mean } => {
                self.output_shape(&[a.shape(), x[1].shape()])?;
                let squares = array::zip_map(name, a, x[1], |p, q| (p - q) * (p - q))?;
                let total = array::sum_all(&squares);
                Array::scalar(if mean {
                    total / T::from(a.numel()).unwrap_or_else(T::nan)
                } else {
                    total
                })
            }
            Op::Sum => Array::scalar(array::sum_all(a)),
            Op::Mean => {
                let n = T::from(a.numel()).unwrap_or_else(T::nan);
                Array::scalar(array::sum_all(a) / n)
            }
            Op::SumDim { dim, keepdim } => {
                self.output_shape(&[a.shape()])?;
                array::sum_dim(a, *dim, *keepdim)
            }
            Op::MeanDim { dim, keepdim } => {
                self.output_shape(&[a.shape()])?;
                let n = T::from(a.shape()[*dim]).unwrap_or_else(T::nan);
                array::map(&array::sum_dim(a, *dim, *keepdim), |p| p / n)
            }
            Op::MaxDim { dim, keepdim } => {
                self.output_shape(&[a.shape()])?;
                array::max_dim(a, *dim, *keepdim).0
            }
            Op::ArgMaxDim { dim, keepdim } => {
                Op::<T>::MaxDim {
                    dim: *dim,
                    keepdim: *keepdim,
                }
                .output_shape(&[a.shape()])?;
                array::argmax_dim(a, *dim, *keepdim)
            }
            Op::SumTo(to) => {
                self.output_shape(&[a.shape()])?;
                array::sum_to_shape(a, to)
            }
            Op::MatMul => array::matmul(name, a, x[1])?,
            Op::Transpose(d0, d1) => {
                self.output_shape(&[a.shape()])?;
                a.with_layout(a.layout().transpose(*d0, *d1))
            }
            Op::Permute(dims) => {
                self.output_shape(&[a.shape()])?;
                a.with_layout(a.layout().permute(dims))
            }
            Op::Reshape(to) => {
                self.output_shape(&[a.shape()])?;
                a.reshape(to)
            }
            Op::Expand(to) => {
                self.output_shape(&[a.shape()])?;
                a.with_layout(a.layout().broadcast_to(to))
            }
            Op::Contiguous => a.contiguous(),
            &Op::MseLossGrad { norm } => {
                let g = x[2].get_flat(0);
                array::zip_map(name, a, x[1], move |p, q| (p - q) * norm * g)?
            }
            Op::WherePositive => {
                array::zip_map(
                    name,
                    a,
                    x[1],
                    |p, q| if q > T::zero() { p } else { T::zero() },
                )?
            }
            Op::Sign => array::map(a, |p| {
                if p == T::zero() || p.is_nan() {
                    p
                } else {
                    p.signum()
                }
            }),
            Op::IndexMask { dim, len } => {
                index_mask(a, self.output_shape(&[a.shape()])?, *dim, *len)
            }
        })
    }
}

/// `x^e`, with the exponents the lecture uses (2, 0.5, -1) computed exactly as PyTorch does:
/// a square as `x * x`, not `powf`, which rounds differently in the last bit.
fn pow<T: Float>(a: &Array<T>, e: T) -> Array<T> {
    let two = T::one() + T::one();
    if e == two {
        array::map(a, |p| p * p)
    } else if e == T::one() {
        array::map(a, |p| p)
    } else if e == T::from(0.5).unwrap_or_else(T::nan) {
        array::map(a, T::sqrt)
    } else if e == -T::one() {
        array::map(a, |p| T::one() / p)
    } else {
        array::map(a, |p| p.powf(e))
    }
}

/// The logistic function, written so neither branch overflows.
fn sigmoid<T: Float>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

fn index_mask<T: Float>(indices: &Array<T>, shape: Shape, dim: usize, len: usize) -> Array<T> {
    let idx = indices.to_vec();
    let (outer, inner) = (numel(&shape[..dim]), numel(&shape[dim + 1..]));
    let mut out = vec![T::zero(); numel(&shape)];
    for o in 0..outer {
        for i in 0..inner {
            if let Some(k) = idx[o * inner + i].to_usize().filter(|&k| k < len) {
                out[(o * len + k) * inner + i] = T::one();
            }
        }
    }
    Array::from_vec(out, &shape)
}
