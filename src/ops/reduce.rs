//! Reductions: of everything, along one dim, and back down to a broadcast shape.

use super::grad::{count, expand, mul, unsqueeze_reduced};
use super::{resize_shape, Flip, MaxMask, OpDef, Pad, Rule, Saves, Value, View, Written};
use crate::array::scan as kernels;
use crate::array::{self, Array};
use crate::element::{Element, Float};
use crate::error::{Error, Result};
use crate::shape::{check_broadcast_to, check_dim, reduced_shape, Shape};
use smallvec::SmallVec;
use std::mem::MaybeUninit;

/// The shape after reducing `dim` of `shape` (an error naming `op` if there is no such dim).
fn along_dim(op: &'static str, shape: &[usize], dim: usize, keepdim: bool) -> Result<Shape> {
    check_dim(op, dim, shape)?;
    Ok(reduced_shape(shape, dim, keepdim))
}

/// Sum of all elements, a scalar (shape `[]`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sum;

impl<T: Element> OpDef<T> for Sum {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "sum"
    }
    fn saves(&self) -> Saves {
        Saves::NOTHING
    }
    fn output_shape(&self, _: &[&[usize]]) -> Result<Shape> {
        Ok(Shape::new())
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        // SAFETY: this op's `forward_into` writes the array whenever it returns `Ok`.
        unsafe { super::returned(|out| self.forward_into(x, out)) }
    }
    fn forward_into(&self, x: &[&Array<T>], out: &mut MaybeUninit<Array<T>>) -> Result<()>
    where
        T: Float,
    {
        let total = array::sum_all(x[0]);
        Array::build_into(out, &[], |o| o.fill(total));
        Ok(())
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        rule.one(|| expand(g, rule.shape(0)))
    }
}

/// Mean of all elements, a scalar (NaN for an empty tensor, as PyTorch).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Mean;

impl<T: Element> OpDef<T> for Mean {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "mean"
    }
    fn saves(&self) -> Saves {
        Saves::NOTHING
    }
    fn output_shape(&self, _: &[&[usize]]) -> Result<Shape> {
        Ok(Shape::new())
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        Ok(Array::scalar(
            array::sum_all(x[0]) / count::<T>(x[0].numel()),
        ))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        let n = rule.shape(0).iter().product();
        rule.one(|| {
            V::apply(
                DivCount {
                    count: n,
                    correction: 0,
                },
                &[&expand(g, rule.shape(0))],
            )
        })
    }
}

/// `x / (count - correction)`: the division by an element count in `mean`'s chain rules and
/// in `var`. The count is an op parameter (not a scalar worked out when the op is built), so
/// a static graph whose sizes are known only at run time divides by the right number.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DivCount {
    pub count: usize,
    pub correction: usize,
}

impl<T: Element> OpDef<T> for DivCount {
    fn resize(&self, size: &mut dyn FnMut(usize) -> Result<usize>) -> Result<Self> {
        Ok(DivCount {
            count: size(self.count)?,
            correction: self.correction,
        })
    }
    fn name(&self) -> &'static str {
        "div_count"
    }
    fn saves(&self) -> Saves {
        Saves::NOTHING
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        Ok(Shape::from_slice(shapes[0]))
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        // In T, so that a count below the correction divides by a negative number (the
        // variance of no elements is 0 / -1, as before).
        let n = count::<T>(self.count) - count::<T>(self.correction);
        Ok(array::map(x[0], |p| p / n))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        rule.one(|| V::apply(self.clone(), &[g]))
    }
}

/// Sum along `dim` (kept as size 1 if `keepdim`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SumDim {
    pub dim: usize,
    pub keepdim: bool,
}

impl<T: Element> OpDef<T> for SumDim {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "sum_dim"
    }
    fn saves(&self) -> Saves {
        Saves::NOTHING
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        along_dim("sum_dim", shapes[0], self.dim, self.keepdim)
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        OpDef::<T>::output_shape(self, &[x[0].shape()])?;
        Ok(array::sum_dim(x[0], self.dim, self.keepdim))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        let input = rule.shape(0);
        rule.one(|| expand(&unsqueeze_reduced(g, input, self.dim, self.keepdim), input))
    }
}

/// Mean along `dim`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MeanDim {
    pub dim: usize,
    pub keepdim: bool,
}

impl<T: Element> OpDef<T> for MeanDim {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "mean_dim"
    }
    fn saves(&self) -> Saves {
        Saves::NOTHING
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        along_dim("mean_dim", shapes[0], self.dim, self.keepdim)
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        OpDef::<T>::output_shape(self, &[x[0].shape()])?;
        let n = count::<T>(x[0].shape()[self.dim]);
        Ok(array::map(
            &array::sum_dim(x[0], self.dim, self.keepdim),
            |p| p / n,
        ))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        let input = rule.shape(0);
        rule.one(|| {
            V::apply(
                DivCount {
                    count: input[self.dim],
                    correction: 0,
                },
                &[&expand(
                    &unsqueeze_reduced(g, input, self.dim, self.keepdim),
                    input,
                )],
            )
        })
    }
}

/// The max along `dim` (its index comes from `argmax_dim`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MaxDim {
    pub dim: usize,
    pub keepdim: bool,
}

impl<T: Element> OpDef<T> for MaxDim {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "max_dim"
    }
    fn saves(&self) -> Saves {
        Saves::INPUTS
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        let (s, dim) = (shapes[0], self.dim);
        let out = along_dim("max_dim", s, dim, self.keepdim)?;
        if s[dim] == 0 {
            return Err(Error::shape(
                "max_dim",
                format!("cannot take the max of an empty dim {dim} of {s:?}"),
            ));
        }
        Ok(out)
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        OpDef::<T>::output_shape(self, &[x[0].shape()])?;
        Ok(array::max_dim(x[0], self.dim, self.keepdim))
    }
    /// The gradient goes to the element that was picked (the first on ties), like
    /// PyTorch's `max(dim)`.
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        let input = rule.shape(0);
        rule.one(|| {
            let mask = V::apply(MaxMask { dim: self.dim }, &[rule.x(0)]);
            mul(
                &expand(&unsqueeze_reduced(g, input, self.dim, self.keepdim), input),
                &mask,
            )
        })
    }
}

/// Sums a broadcast value back down to a shape (the adjoint of broadcasting).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SumTo(pub Shape);

impl<T: Element> OpDef<T> for SumTo {
    fn resize(&self, size: &mut dyn FnMut(usize) -> Result<usize>) -> Result<Self> {
        Ok(SumTo(resize_shape(&self.0, size)?))
    }
    fn name(&self) -> &'static str {
        "sum_to"
    }
    fn saves(&self) -> Saves {
        Saves::NOTHING
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        check_broadcast_to("sum_to", &self.0, shapes[0])?;
        Ok(self.0.clone())
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        check_broadcast_to("sum_to", &self.0, x[0].shape())?;
        Ok(array::sum_to_shape(x[0], &self.0))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        rule.one(|| expand(g, rule.shape(0)))
    }
}

/// The product along `dim`. Its gradient is `g` times the product of the other elements
/// (exact with zeros, as PyTorch's).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ProdDim {
    pub dim: usize,
    pub keepdim: bool,
}

impl<T: Element> OpDef<T> for ProdDim {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "prod_dim"
    }
    fn saves(&self) -> Saves {
        Saves::INPUTS
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        along_dim("prod_dim", shapes[0], self.dim, self.keepdim)
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        OpDef::<T>::output_shape(self, &[x[0].shape()])?;
        Ok(kernels::reduce_lanes(
            x[0],
            self.dim,
            self.keepdim,
            |lane| lane.iter().fold(T::one(), |acc, &v| acc * v),
        ))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        let input = rule.shape(0);
        rule.one(|| {
            // Recorded (create_graph, the static graph), the rule must be differentiable
            // in turn: the products of the others from ops that have derivatives.
            let others = if V::records() {
                prod_others_composed(rule.x(0), self.dim)
            } else {
                V::apply(ProdOthers { dim: self.dim }, &[rule.x(0)])
            };
            mul(
                &expand(&unsqueeze_reduced(g, input, self.dim, self.keepdim), input),
                &others,
            )
        })
    }
}

/// `ProdOthers` from differentiable ops: (the product of those before) × (the product of
/// those after), two exclusive cumulative products. Exact with zeros (no division).
fn prod_others_composed<T: Float, V: Value<T>>(x: &V, dim: usize) -> V {
    let n = x.dims()[dim];
    if n == 0 {
        return x.clone();
    }
    let front: SmallVec<[(usize, usize); 4]> = (0..x.dims().len())
        .map(|d| if d == dim { (1, 0) } else { (0, 0) })
        .collect();
    // cumprod([1, v₀, …, v_{n−2}]): at i, the product of the first i elements of `v`.
    let exclusive = |v: &V| {
        let head = V::apply(
            View::Narrow {
                dim,
                start: 0,
                len: n - 1,
            },
            &[v],
        );
        let padded = V::apply(
            Pad {
                pads: front.clone(),
                value: T::one(),
            },
            &[&head],
        );
        V::apply(Cumprod { dim }, &[&padded])
    };
    let flip = |v: &V| {
        V::apply(
            Flip {
                dims: smallvec::smallvec![dim],
            },
            &[v],
        )
    };
    let before = exclusive(x);
    let after = flip(&exclusive(&flip(x)));
    mul(&before, &after)
}

/// For each element, the product of the others in its lane along `dim`. Value-only.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ProdOthers {
    pub dim: usize,
}

impl<T: Element> OpDef<T> for ProdOthers {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "prod_backward"
    }
    fn saves(&self) -> Saves {
        Saves::NOTHING
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        check_dim("prod_backward", self.dim, shapes[0])?;
        Ok(Shape::from_slice(shapes[0]))
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        OpDef::<T>::output_shape(self, &[x[0].shape()])?;
        Ok(kernels::prod_others(x[0], self.dim))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, _: &V) -> Written
    where
        T: Float,
    {
        rule.write([None])
    }
}

/// `log(sum(exp(x)))` along `dim`, computed around the lane's max so nothing overflows
/// (an infinite max is left out of the shift, as PyTorch does). d = softmax: `g e^(x - y)`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LogSumExp {
    pub dim: usize,
    pub keepdim: bool,
}

impl<T: Element> OpDef<T> for LogSumExp {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "logsumexp"
    }
    fn saves(&self) -> Saves {
        Saves::BOTH
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        along_dim("logsumexp", shapes[0], self.dim, self.keepdim)
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        OpDef::<T>::output_shape(self, &[x[0].shape()])?;
        Ok(kernels::reduce_lanes(
            x[0],
            self.dim,
            self.keepdim,
            |lane| {
                let max =
                    lane.iter().fold(
                        T::neg_infinity(),
                        |m, &v| if v > m || v.is_nan() { v } else { m },
                    );
                let shift = if max.is_infinite() { T::zero() } else { max };
                let sum = lane
                    .iter()
                    .fold(T::zero(), |acc, &v| acc + (v - shift).exp());
                sum.ln() + shift
            },
        ))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        let input = rule.shape(0);
        rule.one(|| {
            let y = expand(
                &unsqueeze_reduced(rule.y(), input, self.dim, self.keepdim),
                input,
            );
            let g = expand(&unsqueeze_reduced(g, input, self.dim, self.keepdim), input);
            let softmax = V::apply(super::Exp, &[&V::apply(super::Sub, &[rule.x(0), &y])]);
            mul(&g, &softmax)
        })
    }
}

/// Running sum along `dim` (from the end if `reverse`). Its adjoint is the running sum the
/// other way.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cumsum {
    pub dim: usize,
    pub reverse: bool,
}

impl<T: Element> OpDef<T> for Cumsum {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "cumsum"
    }
    fn saves(&self) -> Saves {
        Saves::NOTHING
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        check_dim("cumsum", self.dim, shapes[0])?;
        Ok(Shape::from_slice(shapes[0]))
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        OpDef::<T>::output_shape(self, &[x[0].shape()])?;
        Ok(kernels::cumsum(x[0], self.dim, self.reverse))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        let other_way = Cumsum {
            dim: self.dim,
            reverse: !self.reverse,
        };
        rule.one(|| V::apply(other_way, &[g]))
    }
}

/// Running product along `dim`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cumprod {
    pub dim: usize,
}

impl<T: Element> OpDef<T> for Cumprod {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "cumprod"
    }
    fn saves(&self) -> Saves {
        Saves::INPUTS
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        check_dim("cumprod", self.dim, shapes[0])?;
        Ok(Shape::from_slice(shapes[0]))
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        OpDef::<T>::output_shape(self, &[x[0].shape()])?;
        Ok(kernels::cumprod(x[0], self.dim))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        rule.one(|| V::apply(CumprodGrad { dim: self.dim }, &[g, rule.x(0)]))
    }
}

/// `cumprod`'s chain rule on `[g, x]`, exact where `x` has zeros. Value-only.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CumprodGrad {
    pub dim: usize,
}

impl<T: Element> OpDef<T> for CumprodGrad {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "cumprod_backward"
    }
    fn saves(&self) -> Saves {
        Saves::NOTHING
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        check_dim("cumprod_backward", self.dim, shapes[1])?;
        Ok(Shape::from_slice(shapes[1]))
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        OpDef::<T>::output_shape(self, &[x[0].shape(), x[1].shape()])?;
        let g = x[0].with_layout(x[0].layout().broadcast_to(x[1].shape()));
        Ok(kernels::cumprod_grad(&g, x[1], self.dim))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, _: &V) -> Written
    where
        T: Float,
    {
        rule.write([None, None])
    }
}
