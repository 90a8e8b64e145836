//! `+ - * /` and unary `-` for tensors: owned or borrowed, tensor or scalar, either side.
//! Each panics on shapes that do not broadcast, with the same text as the `try_` method.

use super::Tensor;
use crate::autograd::Op;
use crate::error::or_panic;
use num_traits::Float;
use std::ops::{Add, Div, Mul, Neg, Sub};

macro_rules! tensor_tensor {
    ($($trait:ident $method:ident $try_method:ident;)*) => {$(
        impl<T: Float> $trait<&Tensor<T>> for &Tensor<T> {
            type Output = Tensor<T>;
            #[track_caller]
            fn $method(self, rhs: &Tensor<T>) -> Tensor<T> {
                or_panic(self.$try_method(rhs))
            }
        }
        impl<T: Float> $trait<Tensor<T>> for &Tensor<T> {
            type Output = Tensor<T>;
            #[track_caller]
            fn $method(self, rhs: Tensor<T>) -> Tensor<T> {
                or_panic(self.$try_method(&rhs))
            }
        }
        impl<T: Float> $trait<&Tensor<T>> for Tensor<T> {
            type Output = Tensor<T>;
            #[track_caller]
            fn $method(self, rhs: &Tensor<T>) -> Tensor<T> {
                or_panic(self.$try_method(rhs))
            }
        }
        impl<T: Float> $trait<Tensor<T>> for Tensor<T> {
            type Output = Tensor<T>;
            #[track_caller]
            fn $method(self, rhs: Tensor<T>) -> Tensor<T> {
                or_panic(self.$try_method(&rhs))
            }
        }
    )*};
}

tensor_tensor! {
    Add add try_add;
    Sub sub try_sub;
    Mul mul try_mul;
    Div div try_div;
}

/// `tensor op scalar`, generic over `T`. Subtraction is `x + (-c)`, exact in IEEE arithmetic.
macro_rules! tensor_scalar {
    ($($trait:ident $method:ident |$c:ident| $op:expr;)*) => {$(
        impl<T: Float> $trait<T> for &Tensor<T> {
            type Output = Tensor<T>;
            fn $method(self, $c: T) -> Tensor<T> {
                or_panic(Tensor::apply($op, &[self]))
            }
        }
        impl<T: Float> $trait<T> for Tensor<T> {
            type Output = Tensor<T>;
            fn $method(self, $c: T) -> Tensor<T> {
                or_panic(Tensor::apply($op, &[&self]))
            }
        }
    )*};
}

tensor_scalar! {
    Add add |c| Op::AddScalar(c);
    Sub sub |c| Op::AddScalar(-c);
    Mul mul |c| Op::MulScalar(c);
    Div div |c| Op::DivScalar(c);
}

/// `scalar op tensor` for the concrete float types (a generic impl would break the orphan rule).
macro_rules! scalar_tensor {
    ($($float:ty),*) => {$(
        impl Add<&Tensor<$float>> for $float {
            type Output = Tensor<$float>;
            fn add(self, rhs: &Tensor<$float>) -> Tensor<$float> { rhs + self }
        }
        impl Add<Tensor<$float>> for $float {
            type Output = Tensor<$float>;
            fn add(self, rhs: Tensor<$float>) -> Tensor<$float> { &rhs + self }
        }
        impl Mul<&Tensor<$float>> for $float {
            type Output = Tensor<$float>;
            fn mul(self, rhs: &Tensor<$float>) -> Tensor<$float> { rhs * self }
        }
        impl Mul<Tensor<$float>> for $float {
            type Output = Tensor<$float>;
            fn mul(self, rhs: Tensor<$float>) -> Tensor<$float> { &rhs * self }
        }
        impl Sub<&Tensor<$float>> for $float {
            type Output = Tensor<$float>;
            fn sub(self, rhs: &Tensor<$float>) -> Tensor<$float> {
                or_panic(Tensor::apply(Op::ScalarSub(self), &[rhs]))
            }
        }
        impl Sub<Tensor<$float>> for $float {
            type Output = Tensor<$float>;
            fn sub(self, rhs: Tensor<$float>) -> Tensor<$float> { self - &rhs }
        }
        impl Div<&Tensor<$float>> for $float {
            type Output = Tensor<$float>;
            fn div(self, rhs: &Tensor<$float>) -> Tensor<$float> {
                or_panic(Tensor::apply(Op::ScalarDiv(self), &[rhs]))
            }
        }
        impl Div<Tensor<$float>> for $float {
            type Output = Tensor<$float>;
            fn div(self, rhs: Tensor<$float>) -> Tensor<$float> { self / &rhs }
        }
    )*};
}

scalar_tensor!(f32, f64);

impl<T: Float> Neg for &Tensor<T> {
    type Output = Tensor<T>;
    fn neg(self) -> Tensor<T> {
        or_panic(Tensor::apply(Op::Neg, &[self]))
    }
}

impl<T: Float> Neg for Tensor<T> {
    type Output = Tensor<T>;
    fn neg(self) -> Tensor<T> {
        -&self
    }
}
