//! Macros shared by the two value types, `Tensor` and `graph::Node`.
//!
//! `+ - * /` and unary `-` for a value type with `try_add`/`try_sub`/`try_mul`/`try_div`
//! that implements `ops::Value`: owned or borrowed operands, a value or a
//! scalar on either side. `Tensor` and `graph::Node` get theirs from this one macro. Each
//! operator panics with the text of the error its `try_` method returns.

/// Implements the arithmetic operators for `$ty<T>`.
macro_rules! impl_arithmetic {
    ($ty:ident) => {
        $crate::operators::impl_arithmetic!(@pair $ty Add add try_add);
        $crate::operators::impl_arithmetic!(@pair $ty Sub sub try_sub);
        $crate::operators::impl_arithmetic!(@pair $ty Mul mul try_mul);
        $crate::operators::impl_arithmetic!(@pair $ty Div div try_div);
        // Subtracting c is adding -c, exact in IEEE arithmetic.
        $crate::operators::impl_arithmetic!(@scalar $ty Add add |c| $crate::ops::AddScalar(c));
        $crate::operators::impl_arithmetic!(@scalar $ty Sub sub |c| $crate::ops::AddScalar(-c));
        $crate::operators::impl_arithmetic!(@scalar $ty Mul mul |c| $crate::ops::MulScalar(c));
        $crate::operators::impl_arithmetic!(@scalar $ty Div div |c| $crate::ops::DivScalar(c));
        // A generic `T op $ty<T>` would break the orphan rule: one impl per float type.
        $crate::operators::impl_arithmetic!(@scalar_left $ty f32);
        $crate::operators::impl_arithmetic!(@scalar_left $ty f64);

        impl<T: $crate::Float> std::ops::Neg for &$ty<T> {
            type Output = $ty<T>;
            #[track_caller]
            fn neg(self) -> $ty<T> {
                let _site = $crate::autograd::anomaly::enter(std::panic::Location::caller());
                $crate::error::or_panic(<$ty<T> as $crate::ops::Value<T>>::try_apply($crate::ops::Neg.into(), &[self]))
            }
        }
        impl<T: $crate::Float> std::ops::Neg for $ty<T> {
            type Output = $ty<T>;
            #[track_caller]
            fn neg(self) -> $ty<T> {
                -&self
            }
        }
    };
    (@pair $ty:ident $trait:ident $method:ident $try_method:ident) => {
        impl<T: $crate::Float> std::ops::$trait<&$ty<T>> for &$ty<T> {
            type Output = $ty<T>;
            #[track_caller]
            fn $method(self, rhs: &$ty<T>) -> $ty<T> {
                $crate::error::or_panic(self.$try_method(rhs))
            }
        }
        impl<T: $crate::Float> std::ops::$trait<$ty<T>> for &$ty<T> {
            type Output = $ty<T>;
            #[track_caller]
            fn $method(self, rhs: $ty<T>) -> $ty<T> {
                $crate::error::or_panic(self.$try_method(&rhs))
            }
        }
        impl<T: $crate::Float> std::ops::$trait<&$ty<T>> for $ty<T> {
            type Output = $ty<T>;
            #[track_caller]
            fn $method(self, rhs: &$ty<T>) -> $ty<T> {
                $crate::error::or_panic(self.$try_method(rhs))
            }
        }
        impl<T: $crate::Float> std::ops::$trait<$ty<T>> for $ty<T> {
            type Output = $ty<T>;
            #[track_caller]
            fn $method(self, rhs: $ty<T>) -> $ty<T> {
                $crate::error::or_panic(self.$try_method(&rhs))
            }
        }
    };
    (@scalar $ty:ident $trait:ident $method:ident |$c:ident| $op:expr) => {
        impl<T: $crate::Float> std::ops::$trait<T> for &$ty<T> {
            type Output = $ty<T>;
            #[track_caller]
            fn $method(self, $c: T) -> $ty<T> {
                let _site = $crate::autograd::anomaly::enter(std::panic::Location::caller());
                $crate::error::or_panic(<$ty<T> as $crate::ops::Value<T>>::try_apply($op.into(), &[self]))
            }
        }
        impl<T: $crate::Float> std::ops::$trait<T> for $ty<T> {
            type Output = $ty<T>;
            #[track_caller]
            fn $method(self, $c: T) -> $ty<T> {
                let _site = $crate::autograd::anomaly::enter(std::panic::Location::caller());
                $crate::error::or_panic(<$ty<T> as $crate::ops::Value<T>>::try_apply($op.into(), &[&self]))
            }
        }
    };
    (@scalar_left $ty:ident $float:ty) => {
        impl std::ops::Add<&$ty<$float>> for $float {
            type Output = $ty<$float>;
            #[inline]
            #[track_caller]
            fn add(self, rhs: &$ty<$float>) -> $ty<$float> {
                rhs + self
            }
        }
        impl std::ops::Add<$ty<$float>> for $float {
            type Output = $ty<$float>;
            #[inline]
            #[track_caller]
            fn add(self, rhs: $ty<$float>) -> $ty<$float> {
                &rhs + self
            }
        }
        impl std::ops::Mul<&$ty<$float>> for $float {
            type Output = $ty<$float>;
            #[inline]
            #[track_caller]
            fn mul(self, rhs: &$ty<$float>) -> $ty<$float> {
                rhs * self
            }
        }
        impl std::ops::Mul<$ty<$float>> for $float {
            type Output = $ty<$float>;
            #[inline]
            #[track_caller]
            fn mul(self, rhs: $ty<$float>) -> $ty<$float> {
                &rhs * self
            }
        }
        impl std::ops::Sub<&$ty<$float>> for $float {
            type Output = $ty<$float>;
            #[inline]
            #[track_caller]
            fn sub(self, rhs: &$ty<$float>) -> $ty<$float> {
                let _site = $crate::autograd::anomaly::enter(std::panic::Location::caller());
                $crate::error::or_panic(<$ty<$float> as $crate::ops::Value<$float>>::try_apply($crate::ops::ScalarSub(self).into(), &[rhs]))
            }
        }
        impl std::ops::Sub<$ty<$float>> for $float {
            type Output = $ty<$float>;
            #[inline]
            #[track_caller]
            fn sub(self, rhs: $ty<$float>) -> $ty<$float> {
                self - &rhs
            }
        }
        impl std::ops::Div<&$ty<$float>> for $float {
            type Output = $ty<$float>;
            #[inline]
            #[track_caller]
            fn div(self, rhs: &$ty<$float>) -> $ty<$float> {
                let _site = $crate::autograd::anomaly::enter(std::panic::Location::caller());
                $crate::error::or_panic(<$ty<$float> as $crate::ops::Value<$float>>::try_apply($crate::ops::ScalarDiv(self).into(), &[rhs]))
            }
        }
        impl std::ops::Div<$ty<$float>> for $float {
            type Output = $ty<$float>;
            #[inline]
            #[track_caller]
            fn div(self, rhs: $ty<$float>) -> $ty<$float> {
                self / &rhs
            }
        }
    };
}

pub(crate) use impl_arithmetic;

/// Defines `name(&self, ...)`, which panics with the error's text, and
/// `try_name(&self, ...) -> Result<_>` with the given body, on `$kind`.
macro_rules! fallible {
    ($kind:ident; $(#[$doc:meta])* $name:ident / $try_name:ident (&$self:ident $(, $arg:ident : $ty:ty)*) -> $out:ty $body:block) => {
        $(#[$doc])*
        #[track_caller]
        pub fn $name(&$self $(, $arg: $ty)*) -> $out {
            $crate::error::or_panic($self.$try_name($($arg),*))
        }

        #[doc = concat!("[`", stringify!($kind), "::", stringify!($name), "`] returning an error instead of panicking:")]
        #[doc = ""]
        $(#[$doc])*
        #[track_caller]
        pub fn $try_name(&$self $(, $arg: $ty)*) -> $crate::error::Result<$out> {
            let _site = $crate::autograd::anomaly::enter(std::panic::Location::caller());
            $body
        }
    };
}

pub(crate) use fallible;
