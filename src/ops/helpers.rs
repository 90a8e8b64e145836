//! Selects and masks that chain rules (and a few composite functions) use. Piecewise
//! constant in what they test, so that input has a zero gradient almost everywhere.

use super::grad::sum_to_owned;
use super::{OpDef, Rule, Saves, Value, Written};
use crate::array::{self, Array};
use crate::element::{Element, Float};
use crate::error::Result;
use crate::shape::{check_dim, shape_of, Shape};

/// `a` where `b > 0` or `b` is NaN, else 0: a select, so an infinite `a` where `b <= 0`
/// still gives 0. A NaN `b` lets `a` through, as PyTorch's `threshold_backward` does.
/// Linear in `a` (its gradient is the same select of `g`), piecewise constant in `b`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WherePositive;

impl<T: Element> OpDef<T> for WherePositive {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "where_positive"
    }
    fn saves(&self) -> Saves {
        Saves::INPUTS
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        crate::shape::broadcast_shapes("where_positive", shapes[0], shapes[1])
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        array::zip_map("where_positive", x[0], x[1], |p, q| {
            if q <= T::zero() {
                T::zero()
            } else {
                p
            }
        })
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        let da = rule
            .need(0)
            .then(|| sum_to_owned(V::apply(WherePositive, &[g, rule.x(1)]), rule.shape(0)));
        rule.write([da, None])
    }
}

/// -1, 0 or 1 (NaN stays NaN).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sign;

impl<T: Element> OpDef<T> for Sign {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "sign"
    }
    fn saves(&self) -> Saves {
        Saves::NOTHING
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        Ok(shape_of(shapes[0]))
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        Ok(array::map(x[0], |p| {
            if p == T::zero() || p.is_nan() {
                p
            } else {
                p.signum()
            }
        }))
    }
    /// Piecewise constant: 0, as PyTorch's.
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        rule.one(|| V::apply(super::FullLike(T::zero()), &[g]))
    }
}

/// 1 where an element is the max along `dim` (the first one on ties; NaN wins), else 0:
/// where `max_dim`'s gradient goes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MaxMask {
    pub dim: usize,
}

impl<T: Element> OpDef<T> for MaxMask {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "max_mask"
    }
    fn saves(&self) -> Saves {
        Saves::NOTHING
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        check_dim("max_mask", self.dim, shapes[0])?;
        Ok(shape_of(shapes[0]))
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        OpDef::<T>::output_shape(self, &[x[0].shape()])?;
        Ok(array::max_mask(x[0], self.dim))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, _: &V) -> Written
    where
        T: Float,
    {
        rule.write([None])
    }
}
