//! Selection: tests and comparisons (0/1 values, for the static graph), `where`,
//! `maximum`/`minimum`, and the max and min of everything. `index.rs` has the ops that take
//! indices.
//!
//! Masks and indices are operands of another element type. Eager tensors carry them inside
//! the op, as data of their own type ([`Aux::Given`]); the static graph, whose values share
//! one element type, passes them as the op's last input ([`Aux::Input`]).

use super::grad::{expand, mul, sum_to_owned};
use super::{OpDef, Rule, Saves, Value, Written};
use crate::array::select as kernels;
use crate::array::{self, Array};
use crate::element::{Element, Float};
use crate::error::{Error, Result};
use crate::shape::{broadcast_shapes, shape_of, Shape};

/// A mask or index operand: given as data (eager tensors), or the op's last input, with
/// `T` values (the static graph: nonzero is true, an index must be a whole number).
#[derive(Debug, Clone)]
pub(crate) enum Aux<U: Element> {
    Given(Array<U>),
    Input,
}

impl<U: Element> PartialEq for Aux<U> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Aux::Given(a), Aux::Given(b)) => a.same_storage(b) && a.layout() == b.layout(),
            (Aux::Input, Aux::Input) => true,
            _ => false,
        }
    }
}

impl<U: Element> Aux<U> {
    /// Its shape: the data's, or that of input `at`.
    pub(super) fn shape<'a>(&'a self, shapes: &[&'a [usize]], at: usize) -> &'a [usize] {
        match self {
            Aux::Given(a) => a.shape(),
            Aux::Input => shapes[at],
        }
    }

    /// What a rule must save to pass the operand on: the inputs if it is one of them.
    pub(super) fn saves(&self) -> Saves {
        match self {
            Aux::Given(_) => Saves::NOTHING,
            Aux::Input => Saves::INPUTS,
        }
    }

    /// `op` applied to `value` with this operand passed along (as input `at`, for a graph).
    pub(super) fn apply<T: Float, V: Value<T>>(
        &self,
        op: impl Into<super::Op<T>>,
        value: &V,
        rule: &Rule<'_, V>,
        at: usize,
    ) -> V {
        V::apply(op, &self.with(value, rule, at))
    }

    /// The gradients of an op whose first input is differentiable: `grad()` for it, and
    /// none for the operand when it is an input.
    pub(super) fn grads<V>(&self, rule: &Rule<'_, V>, grad: impl FnOnce() -> V) -> Written {
        self.and_none(rule, rule.one(grad))
    }

    /// After the differentiable inputs' gradients (`written`): none for the operand when it
    /// is an input.
    pub(super) fn and_none<V>(&self, rule: &Rule<'_, V>, written: Written) -> Written {
        match self {
            Aux::Input => rule.write([None]),
            _ => written,
        }
    }

    /// The inputs of an op on `value` that takes this operand along (as its input `at`).
    pub(super) fn with<'a, V>(&self, value: &'a V, rule: &'a Rule<'_, V>, at: usize) -> Vec<&'a V> {
        match self {
            Aux::Given(_) => vec![value],
            Aux::Input => vec![value, rule.x(at)],
        }
    }
}

/// The mask as booleans.
fn mask_of<T: Float>(cond: &Aux<bool>, x: &[&Array<T>], at: usize) -> Array<bool> {
    match cond {
        Aux::Given(mask) => mask.clone(),
        Aux::Input => kernels::map_to(x[at], |v| v != T::zero()),
    }
}

/// The comparisons and tests, as 1 (true) and 0 (false) in the values' own type: what
/// `eq`, `isnan`, `logical_and`... give on `graph::Node`. Piecewise constant: no gradient.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Predicate<T> {
    /// `a ⋄ b` (broadcast), or `a ⋄ c` for a scalar `c`.
    Compare(Cmp, Option<T>),
    IsNan,
    IsInf,
    IsFinite,
    /// Nonzero is true.
    Not,
    And,
    Or,
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Cmp::Eq => "eq",
            Cmp::Ne => "ne",
            Cmp::Lt => "lt",
            Cmp::Le => "le",
            Cmp::Gt => "gt",
            Cmp::Ge => "ge",
        }
    }

    /// The comparison as IEEE does it: NaN is unequal to everything (`ne` is true).
    pub(crate) fn test<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
        }
    }
}

fn flag<T: Float>(b: bool) -> T {
    if b {
        T::one()
    } else {
        T::zero()
    }
}

impl<T: Element> OpDef<T> for Predicate<T> {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        match self {
            Predicate::Compare(cmp, _) => cmp.name(),
            Predicate::IsNan => "isnan",
            Predicate::IsInf => "isinf",
            Predicate::IsFinite => "isfinite",
            Predicate::Not => "logical_not",
            Predicate::And => "logical_and",
            Predicate::Or => "logical_or",
        }
    }
    fn saves(&self) -> Saves {
        Saves::NOTHING
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        match self {
            Predicate::Compare(_, None) | Predicate::And | Predicate::Or => {
                broadcast_shapes(OpDef::<T>::name(self), shapes[0], shapes[1])
            }
            _ => Ok(shape_of(shapes[0])),
        }
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        let name = OpDef::<T>::name(self);
        let nz = |v: T| v != T::zero();
        match *self {
            Predicate::Compare(cmp, None) => {
                kernels::zip_to(name, x[0], x[1], |a, b| flag(cmp.test(a, b)))
            }
            Predicate::Compare(cmp, Some(c)) => Ok(kernels::map_to(x[0], |a| flag(cmp.test(a, c)))),
            Predicate::IsNan => Ok(kernels::map_to(x[0], |a: T| flag(a.is_nan()))),
            Predicate::IsInf => Ok(kernels::map_to(x[0], |a: T| flag(a.is_infinite()))),
            Predicate::IsFinite => Ok(kernels::map_to(x[0], |a: T| flag(a.is_finite()))),
            Predicate::Not => Ok(kernels::map_to(x[0], |a| flag(!nz(a)))),
            Predicate::And => kernels::zip_to(name, x[0], x[1], |a, b| flag(nz(a) && nz(b))),
            Predicate::Or => kernels::zip_to(name, x[0], x[1], |a, b| flag(nz(a) || nz(b))),
        }
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, _: &V) -> Written
    where
        T: Float,
    {
        rule.write(rule.shapes.iter().map(|_| None))
    }
}

/// `torch.where(cond, a, b)`: inputs `[a, b]` (and the condition, for [`Aux::Input`]), all
/// three broadcast together.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Where {
    pub cond: Aux<bool>,
}

impl<T: Element> OpDef<T> for Where {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "where_cond"
    }
    fn saves(&self) -> Saves {
        self.cond.saves()
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        let ab = broadcast_shapes("where_cond", shapes[0], shapes[1])?;
        let c = self.cond.shape(shapes, 2);
        broadcast_shapes("where_cond", c, &ab).map_err(|_| {
            Error::shape(
                "where_cond",
                format!(
                    "the mask's shape {c:?} does not broadcast with {:?} and {:?}",
                    shapes[0], shapes[1]
                ),
            )
        })
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        let mask = mask_of(&self.cond, x, 2);
        kernels::select3(
            "where_cond",
            &mask,
            x[0],
            x[1],
            |m, a, b| if m { a } else { b },
        )
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        let pick = |keep: bool, i: usize| {
            let op = MaskGrad {
                cond: self.cond.clone(),
                keep,
            };
            sum_to_owned(V::apply(op, &self.cond.with(g, rule, 2)), rule.shape(i))
        };
        self.cond
            .and_none(rule, rule.two(|| pick(true, 0), || pick(false, 1)))
    }
}

/// `g` where the condition is `keep`, else 0 (a select: an infinite `g` elsewhere still
/// gives 0). `where_cond`'s chain rule, linear in `g`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MaskGrad {
    pub cond: Aux<bool>,
    pub keep: bool,
}

impl<T: Element> OpDef<T> for MaskGrad {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "where_backward"
    }
    fn saves(&self) -> Saves {
        self.cond.saves()
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        broadcast_shapes("where_backward", shapes[0], self.cond.shape(shapes, 1))
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        let mask = mask_of(&self.cond, x, 1);
        let keep = self.keep;
        let zero = Array::scalar(T::zero());
        kernels::select3("where_backward", &mask, x[0], &zero, |m, g, z| {
            if m == keep {
                g
            } else {
                z
            }
        })
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        self.cond.grads(rule, || {
            sum_to_owned(self.cond.apply(self.clone(), g, rule, 1), rule.shape(0))
        })
    }
}

/// A value of `value` with the shape of the input (`full_like`). No gradient.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FullLike<T>(pub T);

impl<T: Element> OpDef<T> for FullLike<T> {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "full_like"
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
        Ok(Array::full(x[0].shape(), self.0))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, _: &V) -> Written
    where
        T: Float,
    {
        rule.write([None])
    }
}

/// `torch.maximum` (or `minimum`, if `min`): elementwise, broadcast, NaN if either is NaN.
/// A tie sends half the gradient to each side, as PyTorch does.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Maximum {
    pub min: bool,
}

impl<T: Element> OpDef<T> for Maximum {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        if self.min {
            "minimum"
        } else {
            "maximum"
        }
    }
    fn saves(&self) -> Saves {
        Saves::INPUTS
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        broadcast_shapes(OpDef::<T>::name(self), shapes[0], shapes[1])
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        let min = self.min;
        array::zip_map(OpDef::<T>::name(self), x[0], x[1], move |a, b| {
            if a.is_nan() || b.is_nan() {
                T::nan()
            } else if (a > b) != min {
                a
            } else {
                b
            }
        })
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        let share = |first: bool, i: usize| {
            let op = MaxShare {
                min: self.min,
                first,
            };
            sum_to_owned(V::apply(op, &[g, rule.x(0), rule.x(1)]), rule.shape(i))
        };
        rule.two(|| share(true, 0), || share(false, 1))
    }
}

/// The share of `g` that one side of `maximum(a, b)` gets: all of it where that side is
/// larger (or either is NaN), half on a tie, none where it is smaller. Linear in `g`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MaxShare {
    pub min: bool,
    pub first: bool,
}

impl<T: Element> OpDef<T> for MaxShare {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "maximum_backward"
    }
    fn saves(&self) -> Saves {
        Saves::INPUTS
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        let ab = broadcast_shapes("maximum_backward", shapes[1], shapes[2])?;
        broadcast_shapes("maximum_backward", shapes[0], &ab)
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        let (min, first) = (self.min, self.first);
        let half = T::from(0.5).unwrap_or_else(T::nan);
        // select3 reads its first operand as the "condition": here it is `g`.
        kernels::select3("maximum_backward", x[0], x[1], x[2], move |g, a, b| {
            let (mine, other) = if first { (a, b) } else { (b, a) };
            if mine == other {
                g * half
            } else if (mine < other) != min && !(mine.is_nan() || other.is_nan()) {
                T::zero()
            } else {
                g
            }
        })
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        let dg = rule.need(0).then(|| {
            sum_to_owned(
                V::apply(self.clone(), &[g, rule.x(1), rule.x(2)]),
                rule.shape(0),
            )
        });
        rule.write([dg, None, None])
    }
}

/// The max (or min) of every element, a scalar; NaN if any element is NaN. An error for an
/// empty value. The gradient is shared evenly by the elements that tie for it, as PyTorch's.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MaxAll {
    pub min: bool,
}

impl<T: Element> OpDef<T> for MaxAll {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        if self.min {
            "min"
        } else {
            "max"
        }
    }
    fn saves(&self) -> Saves {
        Saves::BOTH
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        if shapes[0].contains(&0) {
            return Err(Error::shape(
                OpDef::<T>::name(self),
                format!(
                    "an empty tensor (shape {:?}) has no {}; use max_dim with a non-empty dim",
                    shapes[0],
                    OpDef::<T>::name(self)
                ),
            ));
        }
        Ok(Shape::new())
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        OpDef::<T>::output_shape(self, &[x[0].shape()])?;
        let c = kernels::contiguous(x[0]);
        let data = kernels::dense(&c);
        let min = self.min;
        let mut best = data[0];
        for &v in data.iter() {
            if v.is_nan() {
                best = v;
                break;
            }
            if (v > best) != min && v != best {
                best = v;
            }
        }
        Ok(Array::scalar(best))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        rule.one(|| {
            let share = V::apply(EvenShare, &[rule.x(0), rule.y()]);
            mul(&expand(g, rule.shape(0)), &share)
        })
    }
}

/// `1/n` where an element equals the scalar `y` (NaN matching NaN), `n` being how many do,
/// else 0: how `max()` and `min()` share their gradient. Value-only.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EvenShare;

impl<T: Element> OpDef<T> for EvenShare {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "max_backward"
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
        let y = x[1].get_flat(0);
        let hit = move |v: T| v == y || (v.is_nan() && y.is_nan());
        let c = kernels::contiguous(x[0]);
        let n = kernels::dense(&c).iter().filter(|&&v| hit(v)).count();
        let share = T::one() / super::grad::count::<T>(n);
        Ok(kernels::map_to(x[0], move |v| {
            if hit(v) {
                share
            } else {
                T::zero()
            }
        }))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, _: &V) -> Written
    where
        T: Float,
    {
        rule.write([None, None])
    }
}

/// A mask or index operand as an op takes it: eager tensors give their data
/// ([`Aux::Given`]), graph nodes give themselves as an extra input ([`Aux::Input`]).
pub(crate) trait Operand<U: Element, V> {
    fn operand(&self) -> (Aux<U>, Option<V>);
}

/// Applies `op` to `inputs`, plus the operand's extra input when it has one.
pub(crate) fn apply_with<T: Float, V: Value<T>>(
    op: super::Op<T>,
    inputs: &[&V],
    extra: Option<V>,
) -> Result<V> {
    match extra {
        None => V::try_apply(op, inputs),
        Some(extra) => {
            let mut all: Vec<&V> = inputs.to_vec();
            all.push(&extra);
            V::try_apply(op, &all)
        }
    }
}

/// The shape of a given operand (empty for a graph input, whose shape the caller has).
pub(crate) fn given_shape<U: Element>(aux: &Aux<U>) -> Shape {
    match aux {
        Aux::Given(a) => shape_of(a.shape()),
        Aux::Input => Shape::new(),
    }
}
