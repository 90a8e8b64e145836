//! Arithmetic: `+ - * /` between values (with NumPy broadcasting), with a scalar on either
//! side, and negation.

use super::grad::{div, mul, neg, scale, sum_to, sum_to_owned};
use super::{OpDef, Rule, Saves, Value, Written};
use crate::array::{self, Array};
use crate::element::{Element, Float};
use crate::error::Result;
use crate::shape::{broadcast_shapes, shape_of, Shape};
use std::mem::MaybeUninit;

/// Defines a broadcasting binary op: its struct, name, kernel and chain rule.
macro_rules! binary {
    ($(#[$doc:meta])* $op:ident, $name:literal, $saves:expr, |$p:ident, $q:ident| $f:expr,
     |$rule:ident, $g:ident| ($da:expr, $db:expr)) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq)]
        pub(crate) struct $op;

        impl $op {
            /// The op on two dense inputs of the output's length: a static graph's
            /// prepared kernel (`graph::prepared`).
            pub(crate) fn dense<T: Float>(a: &[T], b: &[T], out: &mut [T]) {
                for ((o, &$p), &$q) in out.iter_mut().zip(a).zip(b) {
                    *o = $f;
                }
            }
        }

        impl<T: Element> OpDef<T> for $op {
            keeps_sizes!();
            fn name(&self) -> &'static str {
                $name
            }
            fn saves(&self) -> Saves {
                $saves
            }
            fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
                broadcast_shapes($name, shapes[0], shapes[1])
            }
            fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
            where
                T: Float,
            {
                // SAFETY: `forward_into` below writes the array whenever it returns `Ok`.
                unsafe { super::returned(|out| self.forward_into(x, out)) }
            }
            fn forward_into(&self, x: &[&Array<T>], out: &mut MaybeUninit<Array<T>>) -> Result<()>
            where
                T: Float,
            {
                array::zip_map_into($name, x[0], x[1], |$p, $q| $f, out)
            }
            fn backward<V: Value<T>>(&self, $rule: &Rule<'_, V>, $g: &V) -> Written
            where
                T: Float,
            {
                // Broadcasting is undone by summing each gradient back to its input's shape.
                $rule.two(
                    || sum_to($da, $rule.shape(0)),
                    || sum_to($db, $rule.shape(1)),
                )
            }
        }
    };
}

binary!(
    /// `a + b`: d(a+b) = da + db.
    Add, "add", Saves::NOTHING, |p, q| p + q,
    |rule, g| (g, g)
);
binary!(
    /// `a - b`.
    Sub, "sub", Saves::NOTHING, |p, q| p - q,
    |rule, g| (g, &neg(g))
);
binary!(
    /// `a * b`: d(ab) = b da + a db.
    Mul, "mul", Saves::INPUTS, |p, q| p * q,
    |rule, g| (&mul(g, rule.x(1)), &mul(g, rule.x(0)))
);
binary!(
    /// `a / b`: d(a/b) = da/b - a db/b².
    Div, "div", Saves::INPUTS, |p, q| p / q,
    |rule, g| (&div(g, rule.x(1)), &neg(&div(&mul(g, rule.x(0)), &mul(rule.x(1), rule.x(1)))))
);

/// `a * (b * c)`, with `c` carried in the op: a chain rule's product with a constant
/// factor in one pass instead of two (the square's `g · 2x`, rounded as PyTorch rounds it:
/// `2x` first). d(a (b c)) = (b c) da + (a c) db.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MulScaled<T>(pub T);

impl<T: Element> OpDef<T> for MulScaled<T> {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "mul"
    }
    fn saves(&self) -> Saves {
        Saves::INPUTS
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        broadcast_shapes("mul", shapes[0], shapes[1])
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        let c = self.0;
        array::zip_map("mul", x[0], x[1], move |p, q| p * (q * c))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        let c = self.0;
        rule.two(
            || sum_to_owned(V::apply(MulScaled(c), &[g, rule.x(1)]), rule.shape(0)),
            || sum_to_owned(V::apply(MulScaled(c), &[g, rule.x(0)]), rule.shape(1)),
        )
    }
}

/// Defines an op between a value and a scalar `c` (carried in the op).
macro_rules! with_scalar {
    ($(#[$doc:meta])* $op:ident, $name:literal, $saves:expr, |$p:ident, $c:ident| $f:expr,
     |$rule:ident, $g:ident, $cc:ident| $grad:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq)]
        pub(crate) struct $op<T>(pub T);

        impl<T: Float> $op<T> {
            /// The op on a dense input, with its scalar passed as `c`: a static graph's
            /// prepared kernel (`graph::prepared`).
            pub(crate) fn dense($c: T, a: &[T], out: &mut [T]) {
                for (o, &$p) in out.iter_mut().zip(a) {
                    *o = $f;
                }
            }
        }

        impl<T: Element> OpDef<T> for $op<T> {
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
                // SAFETY: `forward_into` below writes the array whenever it returns `Ok`.
                unsafe { super::returned(|out| self.forward_into(x, out)) }
            }
            fn forward_into(&self, x: &[&Array<T>], out: &mut MaybeUninit<Array<T>>) -> Result<()>
            where
                T: Float,
            {
                let $c = self.0;
                array::map_into(x[0], move |$p| $f, out);
                Ok(())
            }
            fn backward<V: Value<T>>(&self, $rule: &Rule<'_, V>, $g: &V) -> Written
            where
                T: Float,
            {
                #[allow(unused_variables)]
                let $cc = self.0;
                $rule.one(|| $grad)
            }
        }
    };
}

with_scalar!(
    /// `x + c` (and `x - c`, as `x + (-c)`, exact in IEEE arithmetic).
    AddScalar, "add", Saves::NOTHING, |p, c| p + c,
    |rule, g, c| g.clone()
);
with_scalar!(
    /// `x * c`.
    MulScalar, "mul", Saves::NOTHING, |p, c| p * c,
    |rule, g, c| scale(g, c)
);
with_scalar!(
    /// `x / c`.
    DivScalar, "div", Saves::NOTHING, |p, c| p / c,
    |rule, g, c| V::apply(DivScalar(c), &[g])
);
with_scalar!(
    /// `c - x`.
    ScalarSub, "sub", Saves::NOTHING, |p, c| c - p,
    |rule, g, c| neg(g)
);
with_scalar!(
    /// `c / x`: d(c/x) = -c/x² = -y/x.
    ScalarDiv, "div", Saves::BOTH, |p, c| c / p,
    |rule, g, c| neg(&div(&mul(g, rule.y()), rule.x(0)))
);

/// `-x`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Neg;

impl<T: Element> OpDef<T> for Neg {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "neg"
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
        Ok(array::map(x[0], |p| -p))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        rule.one(|| neg(g))
    }
}

#[cfg(test)]
mod tests {
    use super::MulScaled;
    use crate::autograd::{gradcheck, gradgradcheck, GradcheckOptions};
    use crate::Tensor;

    fn mul_scaled(v: &[Tensor<f64>]) -> Tensor<f64> {
        Tensor::apply(MulScaled(2.5).into(), &[&v[0], &v[1]]).expect("the shapes broadcast")
    }

    /// Only the square's chain rule on arrays applies `MulScaled`, but its own chain rule
    /// is the formula's: checked against finite differences, once and twice, broadcast.
    #[test]
    fn mul_scaled_has_the_derivatives_of_its_formula() {
        let a = Tensor::<f64>::from_vec(vec![0.5, -1.0, 2.0, 0.25, 3.0, -0.75], &[2, 3]);
        let b = Tensor::<f64>::from_vec(vec![1.5, -2.0, 0.5], &[3]);
        assert_eq!(
            mul_scaled(&[a.clone(), b.clone()]).to_vec(),
            [1.875, 5.0, 2.5, 0.9375, -15.0, -0.9375]
        );
        let report = gradcheck(
            mul_scaled,
            &[a.clone(), b.clone()],
            GradcheckOptions::default(),
        );
        assert!(report.passed, "{report}");
        gradgradcheck(mul_scaled, &[a, b]).expect("second derivatives");
    }
}
