//! In-place updates of the shared storage (`w -= lr * grad` under `no_grad`).
//!
//! They are not recorded: on a tensor that requires grad they are refused unless grad
//! mode is off, like PyTorch's RuntimeError for a leaf. A graph that saved the old values
//! notices the change through the storage's version counter and refuses to backward.

use super::Tensor;
use crate::array;
use crate::element::{Element, Float};
use crate::error::{or_panic, Result};

macro_rules! inplace {
    ($($(#[$doc:meta])* $name:ident / $try_name:ident => |$a:ident, $b:ident| $f:expr;)*) => {$(
        $(#[$doc])*
        #[track_caller]
        pub fn $name(&self, other: &Tensor<T>) {
            or_panic(self.$try_name(other))
        }

        #[doc = concat!("[`Tensor::", stringify!($name), "`] returning an error instead of panicking.")]
        pub fn $try_name(&self, other: &Tensor<T>) -> Result<()> {
            self.inplace_binary(stringify!($name), other, |$a, $b| $f)
        }
    )*};
}

impl<T: Float> Tensor<T> {
    inplace! {
        /// `self -= other` in place (`other` broadcast to `self`'s shape).
        ///
        /// ```
        /// use tapegrad::{no_grad, Tensor};
        /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
        /// assert!(w.try_sub_(&Tensor::ones(&[2])).is_err()); // a leaf that requires grad
        /// no_grad(|| w.sub_(&Tensor::full(&[2], 0.25)));
        /// assert_eq!(w.to_vec(), vec![0.75, 0.75]);
        /// ```
        sub_ / try_sub_ => |a, b| a - b;
        /// `self += other` in place.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x: Tensor = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
        /// x.add_(&Tensor::from_vec(vec![10.0, 20.0], &[2])); // broadcast over the rows
        /// assert_eq!(x.to_vec(), vec![11.0, 22.0, 13.0, 24.0]);
        /// ```
        add_ / try_add_ => |a, b| a + b;
        /// `self *= other` in place.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x: Tensor = Tensor::from_vec(vec![1.0, 2.0], &[2]);
        /// x.mul_(&Tensor::from_vec(vec![3.0, 0.5], &[2]));
        /// assert_eq!(x.to_vec(), vec![3.0, 1.0]);
        /// ```
        mul_ / try_mul_ => |a, b| a * b;
        /// `self /= other` in place.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x: Tensor = Tensor::from_vec(vec![1.0, 3.0], &[2]);
        /// x.div_(&Tensor::full(&[2], 2.0));
        /// assert_eq!(x.to_vec(), vec![0.5, 1.5]);
        /// assert!(x.try_div_(&Tensor::ones(&[3])).is_err()); // [3] does not broadcast to [2]
        /// ```
        div_ / try_div_ => |a, b| a / b;
        /// Copies `other`'s values into `self` (broadcasting), like PyTorch's `copy_`.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x: Tensor = Tensor::zeros(&[2, 2]);
        /// let view = x.t(); // shares x's storage
        /// x.copy_(&Tensor::from_vec(vec![1.0, 2.0], &[2]));
        /// assert_eq!(view.to_vec(), vec![1.0, 1.0, 2.0, 2.0]);
        /// ```
        copy_ / try_copy_ => |_a, b| b;
    }

    /// Sets every element to `value` in place, under the same rules as [`Tensor::sub_`].
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::zeros(&[2]);
    /// x.fill_(3.0);
    /// assert_eq!(x.to_vec(), vec![3.0, 3.0]);
    /// ```
    #[track_caller]
    pub fn fill_(&self, value: T) {
        or_panic(self.try_fill_(value))
    }

    /// [`Tensor::fill_`] returning an error instead of panicking.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::zeros(&[2]).requires_grad_(true);
    /// assert!(w.try_fill_(1.0).is_err()); // a leaf that requires grad: only under no_grad
    /// assert!(tapegrad::no_grad(|| w.try_fill_(1.0)).is_ok());
    /// ```
    pub fn try_fill_(&self, value: T) -> Result<()> {
        self.check_inplace("fill_", None)?;
        array::apply_inplace_scalar(self.array(), |_| value);
        Ok(())
    }

    /// Sets every element to zero in place.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::ones(&[2]);
    /// x.zero_();
    /// assert_eq!(x.to_vec(), vec![0.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn zero_(&self) {
        self.fill_(T::zero())
    }
}

/// Stores `values` (one per element, in row-major order) into `tensor` through its layout
/// and bumps its version, for any element type (loading a file into parameters and
/// buffers). The caller checked the count and that no two elements share memory.
pub(crate) fn write_values<T: Element>(tensor: &Tensor<T>, values: Vec<T>) {
    let array = tensor.array();
    let layout = array.layout().clone();
    debug_assert_eq!(values.len(), layout.numel());
    {
        let mut data = array.write();
        if layout.is_contiguous() {
            data[layout.offset..layout.offset + values.len()].copy_from_slice(&values);
        } else {
            for (flat, value) in values.into_iter().enumerate() {
                let (mut rest, mut at) = (flat, layout.offset);
                for (&size, &stride) in layout.shape.iter().zip(&layout.strides).rev() {
                    at += (rest % size) * stride;
                    rest /= size;
                }
                data[at] = value;
            }
        }
        array.bump_version(&data);
    }
}
