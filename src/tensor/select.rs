//! What only eager tensors have among the selection ops: comparisons and tests that give
//! `Tensor<bool>`, the logic of boolean tensors, `where_cond` on a mask, `masked_select`
//! (whose length depends on the data), `allclose`, and `sort`/`topk` with `i64` indices.

use super::Tensor;
use crate::array::select as kernels;
use crate::array::Array;
use crate::dim::{resolve_dim, Dim, Rhs};
use crate::element::{Element, Float};
use crate::error::{Error, Result};
use crate::operators::fallible;
use crate::ops::select::{apply_with, Operand};
use crate::ops::{Aux, Cmp, IndexSelect, Value, Where};

impl<T: Float> Operand<i64, Tensor<T>> for Tensor<i64> {
    fn operand(&self) -> (Aux<i64>, Option<Tensor<T>>) {
        (Aux::Given(self.array().clone()), None)
    }
}

impl<T: Float> Operand<bool, Tensor<T>> for Tensor<bool> {
    fn operand(&self) -> (Aux<bool>, Option<Tensor<T>>) {
        (Aux::Given(self.array().clone()), None)
    }
}

/// Defines the six comparisons.
macro_rules! comparisons {
    ($($(#[$doc:meta])* $name:ident / $try_name:ident => $cmp:ident;)*) => {
        impl<T: Element> Tensor<T> {$(
            $(#[$doc])*
            #[track_caller]
            pub fn $name<'a>(&self, rhs: impl Into<Rhs<'a, Tensor<T>, T>>) -> Tensor<bool> {
                crate::error::or_panic(self.$try_name(rhs))
            }

            #[doc = concat!("[`Tensor::", stringify!($name), "`] returning an error instead of panicking.")]
            pub fn $try_name<'a>(&self, rhs: impl Into<Rhs<'a, Tensor<T>, T>>) -> Result<Tensor<bool>> {
                self.compare(Cmp::$cmp, rhs.into())
            }
        )*}
    };
}

comparisons! {
    /// `self == rhs` elementwise (`rhs` a tensor, broadcast, or a scalar), like `torch.eq`.
    /// NaN equals nothing.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::from_vec(vec![1.0, 2.0, f32::NAN], &[3]);
    /// assert_eq!(x.eq(2.0).to_vec(), vec![false, true, false]);
    /// assert_eq!(x.eq(&x).to_vec(), vec![true, true, false]);
    /// ```
    eq / try_eq => Eq;
    /// `self != rhs` elementwise (true where either is NaN).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::from_vec(vec![1.0, 2.0], &[2]);
    /// assert_eq!(x.ne(2.0).to_vec(), vec![true, false]);
    /// ```
    ne / try_ne => Ne;
    /// `self < rhs` elementwise.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::from_vec(vec![1.0, 2.0], &[2]);
    /// assert_eq!(x.lt(2.0).to_vec(), vec![true, false]);
    /// assert!(x.try_lt(&Tensor::zeros(&[3])).is_err());
    /// ```
    lt / try_lt => Lt;
    /// `self <= rhs` elementwise.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::from_vec(vec![1.0, 2.0], &[2]);
    /// assert_eq!(x.le(1.0).to_vec(), vec![true, false]);
    /// ```
    le / try_le => Le;
    /// `self > rhs` elementwise.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x: Tensor<i64> = Tensor::from_vec(vec![1, 5], &[2]);
    /// assert_eq!(x.gt(2).to_vec(), vec![false, true]);
    /// ```
    gt / try_gt => Gt;
    /// `self >= rhs` elementwise.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::from_vec(vec![1.0, 2.0], &[2]);
    /// assert_eq!(x.ge(&Tensor::scalar(2.0)).to_vec(), vec![false, true]);
    /// ```
    ge / try_ge => Ge;
}

impl<T: Element> Tensor<T> {
    fn compare(&self, cmp: Cmp, rhs: Rhs<'_, Tensor<T>, T>) -> Result<Tensor<bool>> {
        let out = match rhs {
            Rhs::Value(other) => {
                kernels::zip_to(cmp.name(), self.array(), other.array(), move |a, b| {
                    cmp.test(a, b)
                })?
            }
            Rhs::Scalar(c) => kernels::map_to(self.array(), move |a| cmp.test(a, c)),
        };
        Ok(Tensor::from_array(out))
    }
}

impl<T: Float> Tensor<T> {
    /// True where an element is NaN (`torch.isnan`).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::from_vec(vec![1.0, f32::NAN, f32::INFINITY], &[3]);
    /// assert_eq!(x.isnan().to_vec(), vec![false, true, false]);
    /// ```
    pub fn isnan(&self) -> Tensor<bool> {
        Tensor::from_array(kernels::map_to(self.array(), |v: T| v.is_nan()))
    }

    /// True where an element is +inf or -inf (`torch.isinf`).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::from_vec(vec![1.0, f32::NAN, f32::NEG_INFINITY], &[3]);
    /// assert_eq!(x.isinf().to_vec(), vec![false, false, true]);
    /// ```
    pub fn isinf(&self) -> Tensor<bool> {
        Tensor::from_array(kernels::map_to(self.array(), |v: T| v.is_infinite()))
    }

    /// True where an element is neither NaN nor infinite (`torch.isfinite`).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::from_vec(vec![1.0, f32::NAN, f32::INFINITY], &[3]);
    /// assert_eq!(x.isfinite().to_vec(), vec![true, false, false]);
    /// ```
    pub fn isfinite(&self) -> Tensor<bool> {
        Tensor::from_array(kernels::map_to(self.array(), |v: T| v.is_finite()))
    }

    /// Whether `|self - other| <= atol + rtol |other|` everywhere (broadcast), like
    /// `torch.allclose` (NaN is never close; infinities are close to themselves). False
    /// when the shapes do not broadcast.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let a: Tensor<f64> = Tensor::from_vec(vec![1.0, 2.0], &[2]);
    /// let b = &a + 1e-9;
    /// assert!(a.allclose(&b, 1e-5, 1e-8));
    /// assert!(!a.allclose(&(&a + 1.0), 1e-5, 1e-8));
    /// ```
    pub fn allclose(&self, other: &Tensor<T>, rtol: T, atol: T) -> bool {
        let close = kernels::zip_to(
            "allclose",
            self.array(),
            other.array(),
            move |a: T, b: T| a == b || (a - b).abs() <= atol + rtol * b.abs(),
        );
        close.is_ok_and(|c| c.to_vec().into_iter().all(|v| v))
    }

    fallible! { Tensor;
        /// The elements where `mask` is true (broadcast together), as a 1-D tensor in
        /// row-major order (`torch.masked_select`); differentiable.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x: Tensor = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
        /// let mask = x.gt(1.5);
        /// assert_eq!(x.masked_select(&mask).to_vec(), vec![2.0, 3.0, 4.0]);
        /// ```
        masked_select / try_masked_select (&self, mask: &Tensor<bool>) -> Tensor<T> {
            let shape = crate::shape::broadcast_shapes("masked_select", self.shape(), mask.shape())?;
            let n = shape.iter().product::<usize>();
            let flat = self.try_broadcast_to(&shape)?.try_reshape(&[n])?;
            let mask = mask.array().with_layout(mask.array().layout().broadcast_to(&shape));
            let positions: Vec<i64> = mask
                .to_vec()
                .into_iter()
                .enumerate()
                .filter(|&(_, m)| m)
                .map(|(i, _)| i as i64)
                .collect();
            let count = positions.len();
            let index = Aux::Given(Array::from_vec(positions, &[count]));
            apply_with(IndexSelect { dim: 0, index }.into(), &[&flat], None)
        }
    }

    fallible! { Tensor;
        /// The values sorted along `dim` and the permutation (`torch.sort(stable=True)`):
        /// equal values keep their order, NaN sorts last (first if `descending`). The
        /// values are differentiable: the gradient goes back through the permutation.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x: Tensor = Tensor::from_vec(vec![3.0, 1.0, 2.0], &[3]);
        /// let (values, indices) = x.sort(0, false);
        /// assert_eq!(values.to_vec(), vec![1.0, 2.0, 3.0]);
        /// assert_eq!(indices.to_vec(), vec![1, 2, 0]);
        /// ```
        sort / try_sort (&self, dim: impl Dim, descending: bool) -> (Tensor<T>, Tensor<i64>) {
            let dim = resolve_dim("sort", dim, self.shape())?;
            let indices = self.try_argsort(dim, descending)?;
            let values = self.try_gather(dim, &indices)?;
            Ok((values, indices))
        }
    }

    fallible! { Tensor;
        /// The permutation that sorts along `dim` (`torch.argsort(stable=True)`).
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x: Tensor = Tensor::from_vec(vec![3.0, 1.0, 2.0], &[3]);
        /// assert_eq!(x.argsort(0, true).to_vec(), vec![0, 2, 1]);
        /// ```
        argsort / try_argsort (&self, dim: impl Dim, descending: bool) -> Tensor<i64> {
            let dim = resolve_dim("argsort", dim, self.shape())?;
            Ok(Tensor::from_array(crate::array::scan::argsort(self.array(), dim, descending)))
        }
    }

    fallible! { Tensor;
        /// The `k` largest along `dim`, largest first, and their indices (`torch.topk`);
        /// the values are differentiable. An error if `k` exceeds the dim.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x: Tensor = Tensor::from_vec(vec![1.0, 5.0, 3.0, 4.0], &[4]);
        /// let (values, indices) = x.topk(2, 0);
        /// assert_eq!(values.to_vec(), vec![5.0, 4.0]);
        /// assert_eq!(indices.to_vec(), vec![1, 3]);
        /// assert!(x.try_topk(5, 0).is_err());
        /// ```
        topk / try_topk (&self, k: usize, dim: impl Dim) -> (Tensor<T>, Tensor<i64>) {
            let dim = resolve_dim("topk", dim, self.shape())?;
            if k > self.shape()[dim] {
                return Err(Error::index(
                    "topk",
                    format!("k = {k} is larger than dim {dim} of size {} (shape {:?})", self.shape()[dim], self.shape()),
                ));
            }
            let order = self.try_argsort(dim, true)?;
            let indices = order.try_narrow(dim, 0, k)?.contiguous();
            let values = self.try_gather(dim, &indices)?;
            Ok((values, indices))
        }
    }
}

impl Tensor<bool> {
    fallible! { Tensor;
        /// `self && other` elementwise, broadcast (`torch.logical_and`).
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let a = Tensor::from_vec(vec![true, true, false], &[3]);
        /// let b = Tensor::from_vec(vec![true, false, false], &[3]);
        /// assert_eq!(a.logical_and(&b).to_vec(), vec![true, false, false]);
        /// ```
        logical_and / try_logical_and (&self, other: &Tensor<bool>) -> Tensor<bool> {
            Ok(Tensor::from_array(kernels::zip_to("logical_and", self.array(), other.array(), |a, b| a && b)?))
        }
    }

    fallible! { Tensor;
        /// `self || other` elementwise, broadcast (`torch.logical_or`).
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let a = Tensor::from_vec(vec![true, false], &[2]);
        /// assert_eq!(a.logical_or(&Tensor::scalar(false)).to_vec(), vec![true, false]);
        /// ```
        logical_or / try_logical_or (&self, other: &Tensor<bool>) -> Tensor<bool> {
            Ok(Tensor::from_array(kernels::zip_to("logical_or", self.array(), other.array(), |a, b| a || b)?))
        }
    }

    /// `!self` elementwise (`torch.logical_not`).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert_eq!(Tensor::from_vec(vec![true, false], &[2]).logical_not().to_vec(), vec![false, true]);
    /// ```
    pub fn logical_not(&self) -> Tensor<bool> {
        Tensor::from_array(kernels::map_to(self.array(), |a: bool| !a))
    }

    /// Whether any element is true, as a 0-d tensor (`torch.any`; false when empty).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert!(Tensor::from_vec(vec![false, true], &[2]).any().item());
    /// ```
    pub fn any(&self) -> Tensor<bool> {
        Tensor::scalar(self.to_vec().into_iter().any(|v| v))
    }

    /// Whether every element is true, as a 0-d tensor (`torch.all`; true when empty).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert!(!Tensor::from_vec(vec![false, true], &[2]).all().item());
    /// ```
    pub fn all(&self) -> Tensor<bool> {
        Tensor::scalar(self.to_vec().into_iter().all(|v| v))
    }

    /// `on_true` where this mask is true, else `on_false`, all three broadcast together
    /// (`torch.where(mask, on_true, on_false)`); differentiable in both branches.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::from_vec(vec![-1.0, 2.0], &[2]);
    /// let y = x.gt(0.0).where_cond(&x, &Tensor::scalar(0.0));
    /// assert_eq!(y.to_vec(), vec![0.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn where_cond<T: Float>(&self, on_true: &Tensor<T>, on_false: &Tensor<T>) -> Tensor<T> {
        crate::error::or_panic(self.try_where_cond(on_true, on_false))
    }

    /// [`Tensor::where_cond`] returning an error instead of panicking.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let mask = Tensor::from_vec(vec![true, false, true], &[3]);
    /// let e = mask.try_where_cond(&Tensor::<f32>::zeros(&[2]), &Tensor::zeros(&[2])).unwrap_err();
    /// assert_eq!(e.kind(), tapegrad::ErrorKind::Shape);
    /// ```
    #[track_caller]
    pub fn try_where_cond<T: Float>(
        &self,
        on_true: &Tensor<T>,
        on_false: &Tensor<T>,
    ) -> Result<Tensor<T>> {
        let _site = crate::autograd::anomaly::enter(std::panic::Location::caller());
        let cond = Aux::Given(self.array().clone());
        Tensor::try_apply(Where { cond }.into(), &[on_true, on_false])
    }
}
