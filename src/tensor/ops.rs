//! The math API. The methods shared with `graph::Node` come from the macros in
//! `ops/methods.rs`; this file adds what only eager tensors have: integer indices
//! (`argmax_dim`), `view`, and conversions between element types.

use super::Tensor;
use crate::array::{self, Array};
use crate::dim::{resolve_dim, resolve_shape, Dim, ShapeArg};
use crate::element::{convert, DType, Element, Float};
use crate::error::{Error, Result};
use crate::operators::fallible;
use crate::ops::methods::{float_methods, view_methods};
use crate::ops::methods_index::{index_methods, index_view_methods};
use crate::ops::methods_math::math_methods;
use crate::ops::{compose, MaxDim, OpDef};

view_methods!(Tensor, Element);
float_methods!(Tensor, Tensor<i64>);
math_methods!(Tensor, Tensor<i64>);
index_view_methods!(Tensor, Element);
index_methods!(Tensor, Tensor<i64>, Tensor<bool>);

impl<T: Float> Tensor<T> {
    fallible! { Tensor;
        /// Index of the max along `dim` (the first on ties; NaN wins), like
        /// `torch.argmax(x, dim)`.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x: Tensor = Tensor::from_vec(vec![1.0, 5.0, 5.0, 4.0, 2.0, 6.0], &[2, 3]);
        /// assert_eq!(x.argmax_dim(-1, false).to_vec(), vec![1, 2]);
        /// ```
        argmax_dim / try_argmax_dim (&self, dim: impl Dim, keepdim: bool) -> Tensor<i64> {
            self.index_of_max("argmax_dim", dim, keepdim, false)
        }
    }

    fallible! { Tensor;
        /// Index of the min along `dim` (the first on ties; NaN wins), like
        /// `torch.argmin(x, dim)`.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x: Tensor = Tensor::from_vec(vec![1.0, 0.5, 0.5, 4.0, 2.0, 6.0], &[2, 3]);
        /// assert_eq!(x.argmin_dim(1, false).to_vec(), vec![1, 1]);
        /// ```
        argmin_dim / try_argmin_dim (&self, dim: impl Dim, keepdim: bool) -> Tensor<i64> {
            self.index_of_max("argmin_dim", dim, keepdim, true)
        }
    }

    fallible! { Tensor;
        /// Index of the max of all elements, counted in row-major order, like
        /// `torch.argmax(x)`: a 0-dim `Tensor<i64>`. An error for an empty tensor.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x: Tensor = Tensor::from_vec(vec![1.0, 7.0, 7.0, 4.0], &[2, 2]);
        /// assert_eq!(x.argmax().item(), 1);
        /// ```
        argmax / try_argmax (&self) -> Tensor<i64> {
            let flat = compose::reshape_to(&self.detach(), &[self.numel()])?;
            flat.try_argmax_dim(0, false)
                .map_err(|e| Error::new(e.kind(), "argmax", format!("{} (shape {:?})", e.message(), self.shape())))
        }
    }

    fallible! { Tensor;
        /// Index of the min of all elements, in row-major order, like `torch.argmin(x)`.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x: Tensor = Tensor::from_vec(vec![1.0, -7.0, 7.0, -7.0], &[2, 2]);
        /// assert_eq!(x.argmin().item(), 1);
        /// ```
        argmin / try_argmin (&self) -> Tensor<i64> {
            let flat = compose::reshape_to(&self.detach(), &[self.numel()])?;
            flat.try_argmin_dim(0, false)
                .map_err(|e| Error::new(e.kind(), "argmin", format!("{} (shape {:?})", e.message(), self.shape())))
        }
    }
}

impl<T: Float> Tensor<T> {
    /// The index of the max along `dim` (of the min if `negate`: the first max of -x is
    /// the first min of x, and NaN stays NaN), with max_dim's checks and errors named `op`.
    fn index_of_max(
        &self,
        op: &'static str,
        dim: impl Dim,
        keepdim: bool,
        negate: bool,
    ) -> Result<Tensor<i64>> {
        let dim = resolve_dim(op, dim, self.shape())?;
        OpDef::<T>::output_shape(&MaxDim { dim, keepdim }, &[self.shape()])
            .map_err(|e| Error::new(e.kind(), op, e.message()))?;
        let indices = if negate {
            array::argmax_dim(&array::map(self.array(), |p| -p), dim, keepdim)
        } else {
            array::argmax_dim(self.array(), dim, keepdim)
        };
        Ok(Tensor::from_array(indices))
    }
}

impl<T: Element> Tensor<T> {
    fallible! { Tensor;
        /// `reshape` that never copies, like PyTorch's `view`: an error unless the tensor
        /// is contiguous.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x: Tensor = Tensor::zeros(&[2, 3]);
        /// assert_eq!(x.view(&[3, -1]).shape(), &[3, 2]);
        /// assert!(x.t().try_view(&[6]).is_err());
        /// ```
        view / try_view (&self, shape: &(impl ShapeArg + ?Sized)) -> Tensor<T> {
            let target = resolve_shape("view", shape, self.shape())?;
            if !self.is_contiguous() {
                return Err(Error::shape(
                    "view",
                    format!(
                        "a tensor of shape {:?} with strides {:?} is not contiguous, so it cannot be \
                         viewed as {target:?}; use reshape (which copies) or contiguous() first",
                        self.shape(),
                        self.strides()
                    ),
                ));
            }
            compose::reshape_to(self, &target)
        }
    }

    /// The same values as another element type, like `x.to(torch.int64)`: a copy (or this
    /// very tensor if `U` is `T`). Floats become integers by truncating toward zero, with
    /// Rust's saturating `as` (NaN becomes 0, ±inf the extreme values); `bool` becomes 0 or 1,
    /// and any non-zero value (NaN too) becomes `true`. The result is a new leaf.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::from_vec(vec![-1.7, 0.0, 2.9, f32::NAN], &[4]);
    /// assert_eq!(x.to_dtype::<i64>().to_vec(), vec![-1, 0, 2, 0]);
    /// assert_eq!(x.to_dtype::<bool>().to_vec(), vec![true, false, true, true]);
    /// ```
    pub fn to_dtype<U: Element>(&self) -> Tensor<U> {
        if T::DTYPE == U::DTYPE {
            // Same type: a cast would copy for nothing. Identity through `convert` is exact.
            if let Some(same) = (self as &dyn std::any::Any).downcast_ref::<Tensor<U>>() {
                return same.clone();
            }
        }
        let values: Vec<U> = self.to_vec().into_iter().map(convert::<T, U>).collect();
        Tensor::from_array(Array::from_vec(values, self.shape()))
    }

    /// Whether this tensor holds floats (and so can require grad), like
    /// `x.is_floating_point()`.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert!(Tensor::<f32>::zeros(&[1]).is_floating_point());
    /// assert!(!Tensor::<i64>::zeros(&[1]).is_floating_point());
    /// ```
    pub fn is_floating_point(&self) -> bool {
        matches!(T::DTYPE, DType::F32 | DType::F64)
    }
}
