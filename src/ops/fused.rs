//! Fused ops: the layer above the primitives. Each does in one node what a chain of
//! primitives would, because the lecture's steps are small enough that per-op bookkeeping
//! dominates (BENCHMARKS.md measures the gain). Their chain rules are built from the
//! primitives, plus one value-only helper.

use super::grad::{count, matrix_transpose, mul, neg, scale, sum_to, view};
use super::{
    DivCount, Exp, FullLike, LogSumExp, MatMul, OpDef, Rule, Saves, Sub, Sum, SumDim, Value, View,
    Written,
};
use crate::array::{self, Array};
use crate::element::{Element, Float};
use crate::error::{Error, Result};
use crate::shape::{check_numel, shape_of, Shape};
use smallvec::smallvec;
use std::mem::MaybeUninit;

/// `x wᵀ (+ b)`: a `Linear` layer as one node. Inputs `x` `[..., in]` (2-D or more),
/// `w` `[out, in]`, and `b` `[out]` if `bias`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Linear {
    pub bias: bool,
}

/// `Linear`'s output shape: `x` `[..., in]` (at least 2-D), `w` `[out, in]`, `b` `[out]`.
fn linear_shape(x: &[usize], w: &[usize], b: Option<&[usize]>) -> Result<Shape> {
    let name = "linear";
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
    check_numel(name, &shape)?;
    Ok(shape)
}

impl<T: Element> OpDef<T> for Linear {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "linear"
    }
    fn saves(&self) -> Saves {
        Saves::INPUTS
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        linear_shape(shapes[0], shapes[1], self.bias.then(|| shapes[2]))
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        let (a, w) = (x[0], x[1]);
        linear_shape(a.shape(), w.shape(), self.bias.then(|| x[2].shape()))?;
        // wᵀ is a view: the GEMM reads w's rows as columns, no copy.
        let y = array::matmul("linear", a, &w.with_layout(w.layout().transpose(0, 1)))?;
        if self.bias {
            // `y` is fresh and unshared: add the bias to each row in place.
            array::apply_inplace(&y, x[2], |p, c| p + c);
        }
        Ok(y)
    }
    /// y = x wᵀ + b:  dx = dy w,  dw = dyᵀ x (batch dims flattened into rows),  db = Σ dy.
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        let (x_shape, w_shape) = (rule.shape(0), rule.shape(1));
        let (out, inner) = (w_shape[0], w_shape[1]);
        let rows = x_shape.iter().product::<usize>() / inner.max(1);
        let flat = |v: &V, cols: usize| {
            if v.dims().len() == 2 {
                v.clone()
            } else {
                view(v, View::Reshape(smallvec![rows, cols]))
            }
        };
        let written = rule.two(
            || V::apply(MatMul, &[g, rule.x(1)]),
            || {
                V::apply(
                    MatMul,
                    &[&matrix_transpose(&flat(g, out)), &flat(rule.x(0), inner)],
                )
            },
        );
        if !self.bias {
            return written;
        }
        rule.write([rule.need(2).then(|| sum_to(g, rule.shape(2)))])
    }
}

/// `sum((a - b)²)`, divided by the element count if `mean`: `mse_loss` as one node
/// (inputs of one shape, no broadcasting).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MseLoss {
    pub mean: bool,
}

impl<T: Element> OpDef<T> for MseLoss {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "mse_loss"
    }
    fn saves(&self) -> Saves {
        Saves::INPUTS
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        let (s, t) = (shapes[0], shapes[1]);
        if s != t {
            return Err(Error::shape(
                "mse_loss",
                format!(
                    "input shape {s:?} and target shape {t:?} differ (losses do not broadcast; \
                     reshape one of them)"
                ),
            ));
        }
        Ok(Shape::new())
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        let (a, b) = (x[0], x[1]);
        OpDef::<T>::output_shape(self, &[a.shape(), b.shape()])?;
        let squares = array::zip_map("mse_loss", a, b, |p, q| (p - q) * (p - q))?;
        let total = array::sum_all(&squares);
        Ok(Array::scalar(if self.mean {
            total / count::<T>(a.numel())
        } else {
            total
        }))
    }
    /// As PyTorch's mse_loss_backward: (a - b) · (2/n or 2) · g, and its negative for b.
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        let da = V::apply(MseLossGrad { mean: self.mean }, &[rule.x(0), rule.x(1), g]);
        let db = rule.need(1).then(|| neg(&da));
        rule.write([rule.need(0).then_some(da), db])
    }
}

/// `mse_loss`'s input gradient from (input, target, output gradient):
/// `(input - target) · norm · g`, one pass, in PyTorch's order of operations, where `norm`
/// is `2/n` for a mean over `n` elements and 2 for a sum. Value-only.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MseLossGrad {
    pub mean: bool,
}

impl<T: Element> OpDef<T> for MseLossGrad {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "mse_loss_backward"
    }
    fn saves(&self) -> Saves {
        Saves::INPUTS
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        Ok(shape_of(shapes[0]))
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        let two = T::one() + T::one();
        let norm = if self.mean {
            two / count::<T>(x[0].numel())
        } else {
            two
        };
        let g = x[2].get_flat(0);
        array::zip_map("mse_loss_backward", x[0], x[1], move |p, q| {
            (p - q) * norm * g
        })
    }
    /// The derivatives of `(a - b) · norm · g`: `gg · norm · g` for `a`, its negative for
    /// `b`, and `Σ (a - b) · gg · norm` for `g` (a second derivative of `mse_loss`).
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, gg: &V) -> Written
    where
        T: Float,
    {
        let two = T::one() + T::one();
        let n = rule.shape(0).iter().product::<usize>();
        let norm = |v: &V| {
            let doubled = scale(v, two);
            if self.mean {
                V::apply(
                    DivCount {
                        count: n,
                        correction: 0,
                    },
                    &[&doubled],
                )
            } else {
                doubled
            }
        };
        let (a, b, g) = (rule.x(0), rule.x(1), rule.x(2));
        let da = (rule.need(0) || rule.need(1)).then(|| norm(&mul(gg, g)));
        let db = rule.need(1).then(|| neg(da.as_ref().expect("made above")));
        let dg = rule.need(2).then(|| {
            let diff = V::apply(Sub, &[a, b]);
            V::apply(Sum, &[&norm(&mul(&diff, gg))])
        });
        rule.write([rule.need(0).then(|| da.clone()).flatten(), db, dg])
    }
}

/// `[n, c]` logits with one class below `c` per row; `(n, c)`.
fn class_rows(name: &'static str, x: &[usize], targets: &[usize]) -> Result<(usize, usize)> {
    match *x {
        [n, c] if n == targets.len() && targets.iter().all(|&t| t < c) => Ok((n, c)),
        _ => Err(Error::shape(
            name,
            format!(
                "expected [{}, C] logits with every target below C, got shape {x:?}",
                targets.len()
            ),
        )),
    }
}

/// `ln Σ e^v` over a row, shifted by its max (NaN if the row holds one; a row of -inf gives
/// -inf), with `scratch` for the exponentials.
fn row_logsumexp<T: Float>(row: &[T], scratch: &mut [MaybeUninit<T>]) -> T {
    let max = array::max_row(row);
    let shift = if max.is_infinite() { T::zero() } else { max };
    array::sum_row(array::vmath::exp_shifted(row, shift, scratch)).ln() + shift
}

/// Cross-entropy of each row of `[n, c]` logits against its class,
/// `logsumexp(x_i) - x_i[t_i]`, output `[n]`: `F.cross_entropy(..., reduction='none')`,
/// which PyTorch also fuses (log_softmax and nll_loss). Each row is read once for its max
/// and once for its exponentials; the gradient is [`CrossEntropyGrad`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CrossEntropy {
    pub targets: std::sync::Arc<[usize]>,
}

impl<T: Element> OpDef<T> for CrossEntropy {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "cross_entropy"
    }
    fn saves(&self) -> Saves {
        Saves::INPUTS
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        let (n, _) = class_rows("cross_entropy", shapes[0], &self.targets)?;
        Ok(smallvec![n])
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        let (n, c) = class_rows("cross_entropy", x[0].shape(), &self.targets)?;
        let x = x[0].contiguous();
        let data = x.read();
        let src = &data[x.layout().offset..x.layout().offset + n * c];
        Ok(Array::build(&[n], |out| {
            array::split_rows(src, c, out, 1, |first, rows, losses| {
                let mut scratch = vec![MaybeUninit::uninit(); c];
                for (i, (row, loss)) in rows.chunks_exact(c).zip(losses).enumerate() {
                    *loss = row_logsumexp(row, &mut scratch) - row[self.targets[first + i]];
                }
            });
        }))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        let targets = self.targets.clone();
        rule.one(|| V::apply(CrossEntropyGrad { targets }, &[rule.x(0), g]))
    }
}

/// Cross-entropy's gradient, `(softmax(x_i) - onehot(t_i)) g_i` for each row of `x`
/// `[n, c]` with `g` `[n]`: one op, each row read for its max, its exponentials and the
/// result. Its own derivative (a second order) is built from primitives.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CrossEntropyGrad {
    pub targets: std::sync::Arc<[usize]>,
}

impl<T: Element> OpDef<T> for CrossEntropyGrad {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "cross_entropy_backward"
    }
    fn saves(&self) -> Saves {
        Saves::INPUTS
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        let (n, c) = class_rows("cross_entropy_backward", shapes[0], &self.targets)?;
        if shapes[1] != [n] {
            return Err(Error::shape(
                "cross_entropy_backward",
                format!("gradient of shape {:?} for {n} rows", shapes[1]),
            ));
        }
        Ok(smallvec![n, c])
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        let shape = OpDef::<T>::output_shape(self, &[x[0].shape(), x[1].shape()])?;
        let (n, c) = (shape[0], shape[1]);
        let (logits, g) = (x[0].contiguous(), x[1].contiguous());
        let (data, gs) = (logits.read(), g.read());
        let src = &data[logits.layout().offset..logits.layout().offset + n * c];
        let gs = &gs[g.layout().offset..g.layout().offset + n];
        // SAFETY: every row of the output is written whole by `exp_shifted` (the rows
        // cover it: `split_rows` hands out all of them), then only read and rewritten.
        Ok(unsafe {
            Array::build_uninit(&shape, |out| {
                array::split_rows(src, c, out, c, |first, rows, grads| {
                    for (i, (row, grad)) in rows
                        .chunks_exact(c)
                        .zip(grads.chunks_exact_mut(c))
                        .enumerate()
                    {
                        // softmax = e^(x - max) / Σ e^(x - max): one pass of exponentials,
                        // written in place, then one scaling by g_i / Σ (the row is in cache).
                        // The output is not zeroed first: a fill of its own, on one thread,
                        // took 6% of the op's time on two.
                        let max = array::max_row(row);
                        let shift = if max.is_infinite() { T::zero() } else { max };
                        let grad = array::vmath::exp_shifted(row, shift, grad);
                        let r = first + i;
                        let scale = gs[r] / array::sum_row(grad);
                        for v in grad.iter_mut() {
                            *v = *v * scale;
                        }
                        grad[self.targets[r]] = grad[self.targets[r]] - gs[r];
                    }
                });
            })
        })
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, gy: &V) -> Written
    where
        T: Float,
    {
        let (x, g) = (rule.x(0), rule.x(1));
        let shape = rule.shape(0).clone();
        let column: Shape = smallvec![shape[0], 1];
        let g_column = view(g, View::Reshape(column));
        rule.two(
            || {
                // d/dx of (s - onehot) g: s ⊙ (v - <s, v>), v = gy g (s = softmax(x)).
                let lse = V::apply(
                    LogSumExp {
                        dim: 1,
                        keepdim: true,
                    },
                    &[x],
                );
                let s = V::apply(Exp, &[&V::apply(Sub, &[x, &lse])]);
                let v = mul(gy, &g_column);
                let dot = V::apply(
                    SumDim {
                        dim: 1,
                        keepdim: true,
                    },
                    &[&mul(&s, &v)],
                );
                mul(&s, &V::apply(Sub, &[&v, &dot]))
            },
            || {
                // d/dg_i: Σ_c gy (s - onehot), the same op with g = 1.
                let ones = V::apply(FullLike(T::one()), &[g]);
                let unit = V::apply(self.clone(), &[x, &ones]);
                V::apply(
                    SumDim {
                        dim: 1,
                        keepdim: false,
                    },
                    &[&mul(gy, &unit)],
                )
            },
        )
    }
}
