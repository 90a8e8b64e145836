//! Element types: what a tensor can hold ([`Element`]: f32, f64, i64, bool) and which of
//! them are differentiable ([`Float`]: f32, f64).
//!
//! Both traits are sealed: the crate relies on knowing every implementor. The kernels that
//! must know the primitive type (the GEMM, the buffer pool) test [`Element::DTYPE`], an
//! associated constant, so the test is exact and free after monomorphisation.

use std::fmt::{Debug, Display};

/// The element type of a tensor, as PyTorch's `dtype`.
///
/// ```
/// use tapegrad::{DType, Tensor};
/// assert_eq!(Tensor::<bool>::zeros(&[1]).dtype(), DType::Bool);
/// assert_eq!(DType::F64.to_string(), "float64");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    /// 32-bit float (`torch.float32`), the default.
    F32,
    /// 64-bit float (`torch.float64`).
    F64,
    /// 64-bit signed integer (`torch.int64`): indices, class labels.
    I64,
    /// Boolean (`torch.bool`): masks.
    Bool,
}

impl DType {
    /// PyTorch's name for it, as `Display` prints it (`"float32"`, `"int64"`, ...).
    ///
    /// ```
    /// use tapegrad::DType;
    /// assert_eq!(DType::I64.name(), "int64");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::F64 => "float64",
            DType::I64 => "int64",
            DType::Bool => "bool",
        }
    }

    /// Bytes per element (a bool takes one byte, as in PyTorch and safetensors).
    ///
    /// ```
    /// use tapegrad::DType;
    /// assert_eq!((DType::F32.size(), DType::I64.size(), DType::Bool.size()), (4, 8, 1));
    /// ```
    pub fn size(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F64 | DType::I64 => 8,
            DType::Bool => 1,
        }
    }
}

impl Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

mod sealed {
    /// Conversions between the primitive element types, with Rust's `as` semantics.
    /// Private: no type outside tapegrad can implement `Element`.
    ///
    /// ```text
    /// convert::<f32, i64>(-2.7) == -2   (through as_f64 / from_f64)
    /// ```
    pub trait Sealed: Copy {
        fn as_f64(self) -> f64;
        fn as_i64(self) -> i64;
        fn as_bool(self) -> bool;
        fn from_f64(v: f64) -> Self;
        fn from_i64(v: i64) -> Self;
        fn from_bool(v: bool) -> Self;
    }
}
use sealed::Sealed;

/// A type a [`crate::Tensor`] can hold: `f32`, `f64`, `i64` or `bool` (sealed).
///
/// ```
/// use tapegrad::{DType, Element, Tensor};
/// fn dtype_of<T: Element>(_: &Tensor<T>) -> DType { T::DTYPE }
/// assert_eq!(dtype_of(&Tensor::<i64>::zeros(&[2])), DType::I64);
/// ```
pub trait Element:
    Copy + Send + Sync + 'static + Debug + Display + Default + PartialEq + PartialOrd + Sealed
{
    /// Which primitive this is.
    const DTYPE: DType;
}

/// The differentiable element types, `f32` and `f64`: math and autograd work on these.
/// Re-exported so that generic user code needs no direct `num-traits` dependency.
///
/// ```
/// use tapegrad::{Float, Tensor};
/// fn double<T: Float>(x: &Tensor<T>) -> Tensor<T> { x * (T::one() + T::one()) }
/// assert_eq!(double(&Tensor::<f64>::ones(&[2])).to_vec(), vec![2.0, 2.0]);
/// ```
pub trait Float: Element + num_traits::Float + crate::ops::Kernels {}

macro_rules! primitive {
    ($t:ty, $dtype:ident, $zero:expr, $one:expr) => {
        impl Element for $t {
            const DTYPE: DType = DType::$dtype;
        }
        impl Sealed for $t {
            #[inline]
            fn as_f64(self) -> f64 {
                primitive!(@to_f64 $dtype self)
            }
            #[inline]
            fn as_i64(self) -> i64 {
                primitive!(@to_i64 $dtype self)
            }
            #[inline]
            fn as_bool(self) -> bool {
                primitive!(@to_bool $dtype self)
            }
            #[inline]
            fn from_f64(v: f64) -> Self {
                primitive!(@from_f64 $dtype v)
            }
            #[inline]
            fn from_i64(v: i64) -> Self {
                primitive!(@from_i64 $dtype v)
            }
            #[inline]
            fn from_bool(v: bool) -> Self {
                if v {
                    $one
                } else {
                    $zero
                }
            }
        }
    };
    (@to_f64 Bool $v:ident) => { f64::from(u8::from($v)) };
    (@to_f64 $d:ident $v:ident) => { $v as f64 };
    (@to_i64 Bool $v:ident) => { i64::from($v) };
    (@to_i64 $d:ident $v:ident) => { $v as i64 };
    (@to_bool Bool $v:ident) => { $v };
    // Like PyTorch: anything but zero is true (NaN included).
    (@to_bool $d:ident $v:ident) => { $v != <Self as Default>::default() };
    (@from_f64 Bool $v:ident) => { $v != 0.0 };
    (@from_f64 $d:ident $v:ident) => { $v as _ };
    (@from_i64 Bool $v:ident) => { $v != 0 };
    (@from_i64 $d:ident $v:ident) => { $v as _ };
}

primitive!(f32, F32, 0.0, 1.0);
primitive!(f64, F64, 0.0, 1.0);
primitive!(i64, I64, 0, 1);
primitive!(bool, Bool, false, true);

impl Float for f32 {}
impl Float for f64 {}

/// `value` as another element type, as `tensor.to(dtype)` converts: floats to integers
/// truncate toward zero and saturate (NaN becomes 0, Rust's `as`), `bool` is 0/1, and
/// anything non-zero becomes `true`. An integer goes to a float directly (one rounding).
#[inline]
pub(crate) fn convert<A: Element, B: Element>(value: A) -> B {
    match A::DTYPE {
        DType::I64 => B::from_i64(value.as_i64()),
        DType::Bool => B::from_bool(value.as_bool()),
        // f32 -> f64 is exact, so every float goes through f64 with one rounding at most.
        DType::F32 | DType::F64 => B::from_f64(value.as_f64()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_follow_rust_as_and_pytorch() {
        assert_eq!(convert::<f32, i64>(-2.7), -2);
        assert_eq!(convert::<f64, i64>(f64::NAN), 0);
        assert_eq!(convert::<f64, i64>(1e300), i64::MAX);
        assert!(convert::<f32, bool>(f32::NAN));
        assert!(!convert::<f64, bool>(0.0));
        assert_eq!(convert::<bool, f32>(true), 1.0);
        assert_eq!(convert::<i64, i64>(i64::MAX), i64::MAX);
        // 2^53 + 1 as f32 in one rounding (through f64 it would round twice).
        assert_eq!(
            convert::<i64, f32>((1 << 53) + 1),
            ((1i64 << 53) + 1) as f32
        );
        assert_eq!(convert::<f32, f64>(0.1), 0.1f32 as f64);
    }
}
