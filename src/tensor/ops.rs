//! The math API. Each method applies one [`Op`] through [`Tensor::apply`], which runs its
//! kernel and records it for backward; `try_` forms return the error the plain form panics
//! with.

use super::Tensor;
use crate::autograd::compose::{self, Compose};
use crate::autograd::Op;
use crate::error::{or_panic, Result};
use crate::operators::fallible;
use crate::shape::shape_of;
use num_traits::Float;

/// Defines an infallible unary op.
macro_rules! unary {
    ($($(#[$doc:meta])* $name:ident => $op:expr;)*) => {$(
        $(#[$doc])*
        pub fn $name(&self) -> Tensor<T> {
            self.apply1($op)
        }
    )*};
}

impl<T: Float> Compose<T> for Tensor<T> {
    fn dims(&self) -> &[usize] {
        self.shape()
    }

    fn apply_op(op: Op<T>, inputs: &[&Self]) -> Result<Self> {
        Tensor::apply(op, inputs)
    }
}

impl<T: Float> Tensor<T> {
    fn apply1(&self, op: Op<T>) -> Tensor<T> {
        or_panic(Tensor::apply(op, &[self]))
    }

    /// Elementwise `self + other` with broadcasting; also `&a + &b`.
    pub fn try_add(&self, other: &Tensor<T>) -> Result<Tensor<T>> {
        Tensor::apply(Op::Add, &[self, other])
    }

    /// Elementwise `self - other` with broadcasting; also `&a - &b`.
    pub fn try_sub(&self, other: &Tensor<T>) -> Result<Tensor<T>> {
        Tensor::apply(Op::Sub, &[self, other])
    }

    /// Elementwise `self * other` with broadcasting; also `&a * &b`.
    pub fn try_mul(&self, other: &Tensor<T>) -> Result<Tensor<T>> {
        Tensor::apply(Op::Mul, &[self, other])
    }

    /// Elementwise `self / other` with broadcasting; also `&a / &b`.
    pub fn try_div(&self, other: &Tensor<T>) -> Result<Tensor<T>> {
        Tensor::apply(Op::Div, &[self, other])
    }

    /// `self ^ exponent` elementwise (`x.pow(2)` in PyTorch).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::from_vec(vec![1.0, -2.0, 3.0], &[3]);
    /// assert_eq!(x.pow(2.0).to_vec(), vec![1.0, 4.0, 9.0]);
    /// ```
    pub fn pow(&self, exponent: T) -> Tensor<T> {
        self.apply1(Op::Pow(exponent))
    }

    unary! {
        /// `e^x` elementwise.
        exp => Op::Exp;
        /// Natural logarithm elementwise.
        log => Op::Log;
        /// Square root elementwise.
        sqrt => Op::Sqrt;
        /// Absolute value elementwise.
        abs => Op::Abs;
        /// `max(x, 0)` elementwise (NaN stays NaN).
        relu => Op::Relu;
        /// The logistic function `1 / (1 + e^-x)` elementwise.
        sigmoid => Op::Sigmoid;
        /// Hyperbolic tangent elementwise.
        tanh => Op::Tanh;
        /// `ln(1 + e^x)` elementwise, without overflow for large `x` (like `F.softplus`).
        softplus => Op::Softplus;
        /// Sum of all elements, as a scalar tensor (shape `[]`).
        sum => Op::Sum;
        /// Mean of all elements, as a scalar tensor (NaN for an empty tensor, as in PyTorch).
        mean => Op::Mean;
        /// A contiguous (row-major, dense) tensor with the same values: `self` if it already is.
        contiguous => Op::Contiguous;
    }

    fallible! { Tensor;
        /// Sum along `dim`, keeping it as size 1 if `keepdim`.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x: Tensor = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
        /// assert_eq!(x.sum_dim(1, false).to_vec(), vec![6.0, 15.0]);
        /// assert_eq!(x.sum_dim(0, true).shape(), &[1, 3]);
        /// ```
        sum_dim / try_sum_dim (&self, dim: usize, keepdim: bool) -> Tensor<T> {
            Tensor::apply(Op::SumDim { dim, keepdim }, &[self])
        }
    }

    fallible! { Tensor;
        /// Mean along `dim`, keeping it as size 1 if `keepdim`.
        mean_dim / try_mean_dim (&self, dim: usize, keepdim: bool) -> Tensor<T> {
            Tensor::apply(Op::MeanDim { dim, keepdim }, &[self])
        }
    }

    fallible! { Tensor;
        /// The max along `dim` and its index (as `T`; the first on ties), like
        /// `torch.max(x, dim)`. The values are differentiable; the gradient goes to the index.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x: Tensor = Tensor::from_vec(vec![1.0, 5.0, 3.0, 4.0, 2.0, 6.0], &[2, 3]);
        /// let (values, indices) = x.max_dim(1, false);
        /// assert_eq!(values.to_vec(), vec![5.0, 6.0]);
        /// assert_eq!(indices.to_vec(), vec![1.0, 2.0]);
        /// ```
        max_dim / try_max_dim (&self, dim: usize, keepdim: bool) -> (Tensor<T>, Tensor<T>) {
            let values = Tensor::apply(Op::MaxDim { dim, keepdim }, &[self])?;
            Ok((values, self.try_argmax_dim(dim, keepdim)?))
        }
    }

    fallible! { Tensor;
        /// Index of the max along `dim`, as `T` values (exact up to 2^24 for f32).
        argmax_dim / try_argmax_dim (&self, dim: usize, keepdim: bool) -> Tensor<T> {
            Ok(Tensor::from_array(Op::ArgMaxDim { dim, keepdim }.eval(&[self.array()])?))
        }
    }

    fallible! { Tensor;
        /// Matrix product of two 2-D tensors, like `torch.mm`.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let a: Tensor = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
        /// assert_eq!(a.mm(&Tensor::eye(2)).to_vec(), a.to_vec());
        /// let e = a.try_mm(&Tensor::zeros(&[3, 1])).unwrap_err();
        /// assert_eq!(e.to_string(), "mm: cannot multiply [2, 2] by [3, 1]: inner dimensions 2 and 3 differ");
        /// ```
        mm / try_mm (&self, other: &Tensor<T>) -> Tensor<T> {
            compose::mm(self, other)
        }
    }

    fallible! { Tensor;
        /// Matrix product like `torch.matmul`: 1-D · 1-D is a dot product, a 1-D operand is
        /// treated as a row (left) or column (right) vector and that dim removed after, and
        /// more than 2 dims are batches, broadcast against each other.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let batch: Tensor = Tensor::ones(&[5, 2, 3]);
        /// let w: Tensor = Tensor::ones(&[3, 4]);
        /// assert_eq!(batch.matmul(&w).shape(), &[5, 2, 4]);
        /// let v: Tensor = Tensor::ones(&[3]);
        /// assert_eq!(v.matmul(&v).item(), 3.0);
        /// ```
        matmul / try_matmul (&self, other: &Tensor<T>) -> Tensor<T> {
            compose::matmul(self, other)
        }
    }

    /// The transpose of a 2-D tensor, as a view (no copy). Panics unless 2-D.
    #[track_caller]
    pub fn t(&self) -> Tensor<T> {
        if self.ndim() != 2 {
            panic!(
                "t: expected a 2-D tensor, got shape {:?} (use transpose(d0, d1))",
                self.shape()
            );
        }
        self.transpose(0, 1)
    }

    fallible! { Tensor;
        /// Swaps dims `d0` and `d1`, as a view (no copy).
        transpose / try_transpose (&self, d0: usize, d1: usize) -> Tensor<T> {
            Tensor::apply(Op::Transpose(d0, d1), &[self])
        }
    }

    fallible! { Tensor;
        /// Reorders the dims: dim `i` of the result is dim `dims[i]` of `self`; a view.
        permute / try_permute (&self, dims: &[usize]) -> Tensor<T> {
            Tensor::apply(Op::Permute(shape_of(dims)), &[self])
        }
    }

    fallible! { Tensor;
        /// The same elements in a new shape (same count): a view of a contiguous tensor, a
        /// copy otherwise.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x: Tensor = Tensor::arange(0.0, 6.0, 1.0);
        /// assert_eq!(x.reshape(&[2, 3]).shape(), &[2, 3]);
        /// assert!(x.try_reshape(&[4, 2]).is_err());
        /// ```
        reshape / try_reshape (&self, shape: &[usize]) -> Tensor<T> {
            compose::reshape(self, shape)
        }
    }

    fallible! { Tensor;
        /// A view of `shape` repeating this tensor along broadcast dims (PyTorch's
        /// `expand`); no copy.
        broadcast_to / try_broadcast_to (&self, shape: &[usize]) -> Tensor<T> {
            compose::broadcast_to(self, shape)
        }
    }

    fallible! { Tensor;
        /// Inserts a dim of size 1 at `dim` (0 ..= ndim).
        unsqueeze / try_unsqueeze (&self, dim: usize) -> Tensor<T> {
            compose::unsqueeze(self, dim)
        }
    }

    fallible! { Tensor;
        /// Removes dim `dim`, which must have size 1.
        squeeze_dim / try_squeeze_dim (&self, dim: usize) -> Tensor<T> {
            compose::squeeze_dim(self, dim)
        }
    }
}
