//! Elementwise math: one input, an output of the same shape.

use super::grad::{apply1, div, mul, neg, scale};
use super::{
    AddScalar, FullLike, OpDef, Rule, Saves, ScalarSub, Sign, Value, WherePositive, Written,
};
use crate::array::{self, vmath, Array};
use crate::element::{DType, Element, Float};
use crate::error::Result;
use crate::shape::{shape_of, Shape};
use std::mem::MaybeUninit;

/// Defines an elementwise op from its kernel `|p| f(p)` and its chain rule.
/// An optional `vector: K` names the vectorised f32 kernel (`array::vmath`) that computes
/// the same function.
macro_rules! unary {
    (@map $a:expr, $f:expr) => {
        array::map($a, $f)
    };
    (@map $a:expr, $f:expr, $vector:expr) => {
        array::map_vector($a, $vector, $f)
    };
    ($(#[$doc:meta])* $op:ident, $name:literal, $saves:expr, |$p:ident| $f:expr,
     $(vector: $vector:expr,)? |$rule:ident, $g:ident| $grad:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq)]
        pub(crate) struct $op;

        impl<T: Element> OpDef<T> for $op {
            keeps_sizes!();
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
                Ok(unary!(@map x[0], |$p: T| $f $(, $vector)?))
            }
            fn backward<V: Value<T>>(&self, $rule: &Rule<'_, V>, $g: &V) -> Written
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
    Exp, "exp", Saves::OUTPUT, |p| p.exp(), vector: vmath::Exp,
    |rule, g| mul(g, rule.y())
);
unary!(
    /// `ln x`: d(ln x) = 1/x.
    Log, "log", Saves::INPUTS, |p| p.ln(), vector: vmath::Log,
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
    Sigmoid, "sigmoid", Saves::OUTPUT, |p| sigmoid(p), vector: vmath::Sigmoid,
    |rule, g| mul(g, &mul(rule.y(), &apply1(ScalarSub(T::one()), rule.y())))
);
unary!(
    /// `tanh x`: tanh' = 1 - tanh².
    Tanh, "tanh", Saves::OUTPUT, |p| p.tanh(), vector: vmath::Tanh,
    |rule, g| mul(g, &apply1(ScalarSub(T::one()), &mul(rule.y(), rule.y())))
);
unary!(
    /// `ln(1 + e^x)`, as `max(x, 0) + ln(1 + e^-|x|)`: e^-|x| <= 1, so nothing overflows.
    /// softplus' = σ(x), smooth everywhere (no kink at 0, unlike the formula's max and abs).
    Softplus, "softplus", Saves::INPUTS, |p| p.max(T::zero()) + (-p.abs()).exp().ln_1p(),
    vector: vmath::Softplus,
    |rule, g| mul(g, &apply1(Sigmoid, rule.x(0)))
);

unary!(
    /// `sin x`: d = cos x.
    Sin, "sin", Saves::INPUTS, |p| p.sin(),
    |rule, g| mul(g, &apply1(Cos, rule.x(0)))
);
unary!(
    /// `cos x`: d = -sin x.
    Cos, "cos", Saves::INPUTS, |p| p.cos(),
    |rule, g| neg(&mul(g, &apply1(Sin, rule.x(0))))
);
unary!(
    /// `tan x`: d = 1 + tan² x.
    Tan, "tan", Saves::OUTPUT, |p| p.tan(),
    |rule, g| mul(g, &apply1(AddScalar(T::one()), &mul(rule.y(), rule.y())))
);
unary!(
    /// `ln(1 + x)`, exact near 0: d = 1 / (1 + x).
    Log1p, "log1p", Saves::INPUTS, |p| p.ln_1p(),
    |rule, g| div(g, &apply1(AddScalar(T::one()), rule.x(0)))
);
unary!(
    /// `e^x - 1`, exact near 0: d = e^x = y + 1.
    Expm1, "expm1", Saves::OUTPUT, |p| p.exp_m1(),
    |rule, g| mul(g, &apply1(AddScalar(T::one()), rule.y()))
);
unary!(
    /// The error function (libm's, correctly rounded to within an ulp): d = 2/√π e^(-x²).
    Erf, "erf", Saves::INPUTS, |p| erf(p),
    |rule, g| {
        let x = rule.x(0);
        let two_over_sqrt_pi = T::from(std::f64::consts::FRAC_2_SQRT_PI).unwrap_or_else(T::nan);
        mul(g, &scale(&apply1(Exp, &neg(&mul(x, x))), two_over_sqrt_pi))
    }
);
unary!(
    /// GELU, `x Φ(x)` (`F.gelu`), one op: d = Φ(x) + x φ(x) ([`GeluGrad`]).
    Gelu, "gelu", Saves::INPUTS, |p| gelu(p), vector: vmath::Gelu,
    |rule, g| mul(g, &apply1(GeluGrad, rule.x(0)))
);
unary!(
    /// GELU's derivative `Φ(x) + x φ(x)`: d = φ(x) (2 - x²), from primitives, so every
    /// order of derivative exists.
    GeluGrad, "gelu_backward", Saves::INPUTS, |p| gelu_grad(p), vector: vmath::GeluDerivative,
    |rule, g| {
        let x = rule.x(0);
        let x2 = mul(x, x);
        let half = T::from(-0.5).unwrap_or_else(T::nan);
        let norm = T::from(0.5 * std::f64::consts::FRAC_2_SQRT_PI * std::f64::consts::FRAC_1_SQRT_2)
            .unwrap_or_else(T::nan);
        let density = scale(&apply1(Exp, &scale(&x2, half)), norm);
        let two = T::one() + T::one();
        mul(g, &mul(&density, &apply1(ScalarSub(two), &x2)))
    }
);
unary!(
    /// Rounds down. Piecewise constant: its gradient is 0 (as PyTorch's).
    Floor, "floor", Saves::NOTHING, |p| p.floor(),
    |rule, g| apply1(FullLike(T::zero()), g)
);
unary!(
    /// Rounds up; gradient 0.
    Ceil, "ceil", Saves::NOTHING, |p| p.ceil(),
    |rule, g| apply1(FullLike(T::zero()), g)
);
unary!(
    /// Rounds to the nearest whole number, halves to even (as `torch.round`); gradient 0.
    Round, "round", Saves::NOTHING, |p| round_half_even(p),
    |rule, g| apply1(FullLike(T::zero()), g)
);
unary!(
    /// Rounds toward zero; gradient 0.
    Trunc, "trunc", Saves::NOTHING, |p| p.trunc(),
    |rule, g| apply1(FullLike(T::zero()), g)
);
unary!(
    /// `√x` whose gradient is 0 where the result is 0 (instead of `g/0`): how PyTorch's
    /// `std` and `norm` differentiate at a constant or zero input.
    SqrtOrZero, "sqrt", Saves::OUTPUT, |p| p.sqrt(),
    |rule, g| V::apply(WherePositive, &[&div(g, &scale(rule.y(), T::one() + T::one())), rule.y()])
);

unary!(
    /// `log₂ x`: d = 1 / (x ln 2).
    Log2, "log2", Saves::INPUTS, |p| p.log2(),
    |rule, g| div(g, &scale(rule.x(0), T::from(std::f64::consts::LN_2).unwrap_or_else(T::nan)))
);
unary!(
    /// `log₁₀ x`: d = 1 / (x ln 10).
    Log10, "log10", Saves::INPUTS, |p| p.log10(),
    |rule, g| div(g, &scale(rule.x(0), T::from(std::f64::consts::LN_10).unwrap_or_else(T::nan)))
);
unary!(
    /// `2^x`: d = 2^x ln 2.
    Exp2, "exp2", Saves::OUTPUT, |p| p.exp2(),
    |rule, g| mul(g, &scale(rule.y(), T::from(std::f64::consts::LN_2).unwrap_or_else(T::nan)))
);

/// `a^b` elementwise with broadcasting (`torch.pow(a, b)` for two tensors).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PowTensor;

impl<T: Element> OpDef<T> for PowTensor {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "pow_tensor"
    }
    fn saves(&self) -> Saves {
        Saves::BOTH
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        crate::shape::broadcast_shapes("pow_tensor", shapes[0], shapes[1])
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        array::zip_map("pow_tensor", x[0], x[1], |a, b| a.powf(b))
    }
    /// PyTorch's rule: `g b a^(b-1)` (0 where `b == 0`) and `g a^b ln a` (0 where `a == 0`
    /// and `b >= 0`, where `ln a` would make 0 · -inf).
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        use super::select::{Cmp, Predicate, Where};
        use super::Aux;
        let (a, b) = (rule.x(0), rule.x(1));
        let zero_where = |cond: &V, value: V| {
            let zeros = apply1(FullLike(T::zero()), &value);
            V::apply(Where { cond: Aux::Input }, &[&zeros, &value, cond])
        };
        rule.two(
            || {
                let b_is_zero = apply1(Predicate::Compare(Cmp::Eq, Some(T::zero())), b);
                let d = mul(
                    &mul(g, b),
                    &V::apply(PowTensor, &[a, &apply1(AddScalar(-T::one()), b)]),
                );
                super::grad::sum_to_owned(zero_where(&b_is_zero, d), rule.shape(0))
            },
            || {
                let a_is_zero = apply1(Predicate::Compare(Cmp::Eq, Some(T::zero())), a);
                let b_nonneg = apply1(Predicate::Compare(Cmp::Ge, Some(T::zero())), b);
                let both = V::apply(Predicate::And, &[&a_is_zero, &b_nonneg]);
                let d = mul(&mul(g, rule.y()), &apply1(Log, a));
                super::grad::sum_to_owned(zero_where(&both, d), rule.shape(1))
            },
        )
    }
}

/// `erf` in the element's own precision.
fn erf<T: Float>(x: T) -> T {
    if T::DTYPE == DType::F32 {
        T::from(libm::erff(x.to_f32().unwrap_or(f32::NAN))).unwrap_or_else(T::nan)
    } else {
        T::from(libm::erf(x.to_f64().unwrap_or(f64::NAN))).unwrap_or_else(T::nan)
    }
}

/// `x Φ(x)` in f64, with `Φ(x) = erfc(-x/√2) / 2` (no `1 + erf` to cancel below 0); the
/// scalar form of `vmath::Gelu`, for f64 and strided f32.
fn gelu<T: Float>(x: T) -> T {
    let x = x.to_f64().unwrap_or(f64::NAN);
    T::from(x * normal_cdf(x)).unwrap_or_else(T::nan)
}

/// `Φ(x) + x φ(x)` in f64 (NaN at ±inf, where `x φ(x)` is inf · 0, as PyTorch).
fn gelu_grad<T: Float>(x: T) -> T {
    let x = x.to_f64().unwrap_or(f64::NAN);
    let density = (-0.5 * x * x).exp()
        * (0.5 * std::f64::consts::FRAC_2_SQRT_PI * std::f64::consts::FRAC_1_SQRT_2);
    T::from(normal_cdf(x) + x * density).unwrap_or_else(T::nan)
}

fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x * std::f64::consts::FRAC_1_SQRT_2)
}

/// Rounds halfway cases to the even neighbour, as `torch.round` (and IEEE's default).
fn round_half_even<T: Float>(x: T) -> T {
    let r = x.round();
    let two = T::one() + T::one();
    if (r - x).abs() == T::from(0.5).unwrap_or_else(T::nan) {
        two * (x / two).round()
    } else {
        r
    }
}

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

/// `$apply!(f)` with `f` the function `p ↦ p^e`, as `Pow` computes it for exponent `$e`
/// (one definition for the forward and the prepared kernel).
macro_rules! pow_cases {
    ($e:expr, $apply:ident) => {{
        let e = $e;
        let two = T::one() + T::one();
        if e == two {
            $apply!(|p: T| p * p)
        } else if e == T::one() {
            $apply!(|p: T| p)
        } else if e == T::from(0.5).unwrap_or_else(T::nan) {
            $apply!(T::sqrt)
        } else if e == -T::one() {
            $apply!(|p: T| T::one() / p)
        } else if e == -T::from(0.5).unwrap_or_else(T::nan) {
            // rsqrt, as PyTorch computes it.
            $apply!(|p: T| T::one() / p.sqrt())
        } else {
            $apply!(|p: T| p.powf(e))
        }
    }};
}

impl<T: Float> Pow<T> {
    /// `x^e` over a dense input: a static graph's prepared kernel (`graph::prepared`).
    pub(crate) fn dense(e: T, a: &[T], out: &mut [T]) {
        macro_rules! each {
            ($f:expr) => {{
                let f = $f;
                for (o, &p) in out.iter_mut().zip(a) {
                    *o = f(p);
                }
            }};
        }
        pow_cases!(e, each)
    }
}

impl<T: Element> OpDef<T> for Pow<T> {
    keeps_sizes!();
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
        // SAFETY: this op's `forward_into` writes the array whenever it returns `Ok`.
        unsafe { super::returned(|out| self.forward_into(x, out)) }
    }
    fn forward_into(&self, x: &[&Array<T>], out: &mut MaybeUninit<Array<T>>) -> Result<()>
    where
        T: Float,
    {
        let a = x[0];
        macro_rules! map_by {
            ($f:expr) => {
                array::map_into(a, $f, out)
            };
        }
        pow_cases!(self.0, map_by);
        Ok(())
    }
    /// d(x^e) = e x^(e-1).
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
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
                // The lecture's square skips the x^1 copy: 2x, exactly as PyTorch computes it;
                // on arrays in one pass. Recorded values keep the two ops, which a static
                // graph's plan has prepared kernels for.
                if V::records() {
                    mul(g, &scale(rule.x(0), two))
                } else {
                    V::apply(super::MulScaled(two), &[g, rule.x(0)])
                }
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
    keeps_sizes!();
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
        // Two selects (not a branch chain), so the loop vectorizes; NaN fails both tests
        // and stays NaN.
        Ok(array::map(x[0], move |p| {
            let up = if p < lo { lo } else { p };
            if up > hi {
                hi
            } else {
                up
            }
        }))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
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
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "clamp_backward"
    }
    fn saves(&self) -> Saves {
        Saves::INPUTS
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
    /// Linear in `g` (the same mask again); the mask is flat in `x`.
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        let dg = rule.need(0).then(|| {
            super::grad::sum_to_owned(V::apply(self.clone(), &[g, rule.x(1)]), rule.shape(0))
        });
        rule.write([dg, None])
    }
}
