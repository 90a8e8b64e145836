//! Elementwise math: one input, an output of the same shape.

use super::grad::{apply1, div, mul, scale};
use super::{InputGrads, OpDef, Rule, Saves, ScalarSub, Sign, Value, WherePositive};
use crate::array::{self, Array};
use crate::element::{Element, Float};
use crate::error::Result;
use crate::shape::{shape_of, Shape};

/// Defines an elementwise op from its kernel `|p| f(p)` and its chain rule.
macro_rules! unary {
    ($(#[$doc:meta])* $op:ident, $name:literal, $saves:expr, |$p:ident| $f:expr,
     |$rule:ident, $g:ident| $grad:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq)]
        pub(crate) struct $op;

        impl<T: Element> OpDef<T> for $op {
            fn name(&self) -> &'static str {
                $name
            }
            fn saves(&self) -> Saves {
                $saves
            }
            fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
                Ok(shape_of(shapes[0]))
            }
            fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
            where
                T: Float,
            {
                Ok(array::map(x[0], |$p: T| $f))
            }
            fn backward<V: Value<T>>(&self, $rule: &Rule<'_, V>, $g: &V) -> InputGrads<V>
            where
                T: Float,
            {
                $rule.one(|| $grad)
            }
        }
    };
}

unary!(
    /// `e^x`: d(e^x) = e^x.
    Exp, "exp", Saves::OUTPUT, |p| p.exp(),
    |rule, g| mul(g, rule.y())
);
unary!(
    /// `ln x`: d(ln x) = 1/x.
    Log, "log", Saves::INPUTS, |p| p.ln(),
    |rule, g| div(g, rule.x(0))
);
unary!(
    /// `√x`: d(√x) = 1 / (2√x).
    Sqrt, "sqrt", Saves::OUTPUT, |p| p.sqrt(),
    |rule, g| div(g, &scale(rule.y(), T::one() + T::one()))
);
unary!(
    /// `|x|`: d|x| = sign(x) (0 at 0, as PyTorch).
    Abs, "abs", Saves::INPUTS, |p| p.abs(),
    |rule, g| mul(g, &apply1(Sign, rule.x(0)))
);
unary!(
    /// `max(x, 0)`, with NaN kept (as PyTorch; `max(NaN, 0)` would hide it). The rule is
    /// PyTorch's threshold_backward: a select, not a product, so 0 · inf cannot leak in.
    Relu, "relu", Saves::OUTPUT, |p| if p < T::zero() { T::zero() } else { p },
    |rule, g| V::apply(WherePositive, &[g, rule.y()])
);
unary!(
    /// The logistic function: σ' = σ(1 - σ).
    Sigmoid, "sigmoid", Saves::OUTPUT, |p| sigmoid(p),
    |rule, g| mul(g, &mul(rule.y(), &apply1(ScalarSub(T::one()), rule.y())))
);
unary!(
    /// `tanh x`: tanh' = 1 - tanh².
    Tanh, "tanh", Saves::OUTPUT, |p| p.tanh(),
    |rule, g| mul(g, &apply1(ScalarSub(T::one()), &mul(rule.y(), rule.y())))
);
unary!(
    /// `ln(1 + e^x)`, as `max(x, 0) + ln(1 + e^-|x|)`: e^-|x| <= 1, so nothing overflows.
    /// softplus' = σ(x), smooth everywhere (no kink at 0, unlike the formula's max and abs).
    Softplus, "softplus", Saves::INPUTS, |p| p.max(T::zero()) + (-p.abs()).exp().ln_1p(),
    |rule, g| mul(g, &apply1(Sigmoid, rule.x(0)))
);

/// The logistic function, written so neither branch overflows.
pub(crate) fn sigmoid<T: Float>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

/// `x^e` for a scalar exponent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pow<T>(pub T);

impl<T: Element> OpDef<T> for Pow<T> {
    fn name(&self) -> &'static str {
        "pow"
    }
    fn saves(&self) -> Saves {
        Saves::INPUTS
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        Ok(shape_of(shapes[0]))
    }
    /// The exponents the lecture uses (2, 0.5, -1) are computed exactly as PyTorch does:
    /// a square as `x * x`, not `powf`, which rounds differently in the last bit.
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        let (a, e) = (x[0], self.0);
        let two = T::one() + T::one();
        Ok(if e == two {
            array::map(a, |p| p * p)
        } else if e == T::one() {
            array::map(a, |p| p)
        } else if e == T::from(0.5).unwrap_or_else(T::nan) {
            array::map(a, T::sqrt)
        } else if e == -T::one() {
            array::map(a, |p| T::one() / p)
        } else {
            array::map(a, |p| p.powf(e))
        })
    }
    /// d(x^e) = e x^(e-1).
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> InputGrads<V>
    where
        T: Float,
    {
        let e = self.0;
        let two = T::one() + T::one();
        rule.one(|| {
            if e == T::zero() {
                // PyTorch gives exactly 0 for e = 0, even where x^-1 is inf.
                scale(g, T::zero())
            } else if e == two {
                // The lecture's square skips the x^1 copy: 2x, exactly as PyTorch computes it.
                mul(g, &scale(rule.x(0), two))
            } else {
                mul(g, &scale(&apply1(Pow(e - T::one()), rule.x(0)), e))
            }
        })
    }
}

/// `x` limited to `[min, max]` (NaN stays NaN), like `torch.clamp`; a missing bound is
/// `clamp_min`/`clamp_max`. The gradient passes strictly inside the given bounds (0 at a
/// bound and at NaN), as PyTorch 2.15 computes it for scalar bounds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Clamp<T> {
    pub min: Option<T>,
    pub max: Option<T>,
}

impl<T: Element> OpDef<T> for Clamp<T> {
    fn name(&self) -> &'static str {
        "clamp"
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
        let (lo, hi) = (
            self.min.unwrap_or_else(T::neg_infinity),
            self.max.unwrap_or_else(T::infinity),
        );
        Ok(array::map(x[0], move |p| {
            if p < lo {
                lo
            } else if p > hi {
                hi
            } else {
                p
            }
        }))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> InputGrads<V>
    where
        T: Float,
    {
        let (min, max) = (self.min, self.max);
        rule.one(|| V::apply(ClampGrad { min, max }, &[g, rule.x(0)]))
    }
}

/// `g` where `min < x < max` (each bound only if given), else 0: `clamp`'s chain rule, a
/// select, so an infinite `g` outside still gives 0. Value-only.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClampGrad<T> {
    pub min: Option<T>,
    pub max: Option<T>,
}

impl<T: Element> OpDef<T> for ClampGrad<T> {
    fn name(&self) -> &'static str {
        "clamp_backward"
    }
    fn saves(&self) -> Saves {
        Saves::NOTHING
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        crate::shape::broadcast_shapes("clamp_backward", shapes[0], shapes[1])
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        let (lo, hi) = (self.min, self.max);
        array::zip_map("clamp_backward", x[0], x[1], move |g, p| {
            let above = lo.is_none_or(|lo| p > lo);
            let below = hi.is_none_or(|hi| p < hi);
            if above && below {
                g
            } else {
                T::zero()
            }
        })
    }
    fn backward<V: Value<T>>(&self, _: &Rule<'_, V>, _: &V) -> InputGrads<V>
    where
        T: Float,
    {
        smallvec::smallvec![None, None]
    }
}
