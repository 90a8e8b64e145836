//! The math methods of `Tensor` and `graph::Node`, defined once. `tensor/ops.rs` and
//! `graph/node.rs` each invoke these macros, so the two types cannot drift apart: a method
//! added here exists on both, with the same name, arguments, `try_` twin and errors.
//!
//! Every method is a pair: `name` panics with the text of the error `try_name` returns.
//! Each body is written over [`crate::ops::Value`], which both types implement.

/// The views and shape methods: on `Tensor<T: Element>` (every element type) and on
/// `Node<T: Float>`.
macro_rules! view_methods {
    ($ty:ident, $bound:path) => {
        impl<T: $bound> $ty<T> {
            $crate::operators::fallible! { $ty;
                /// The transpose of a 2-D value, as a view (no copy), like `x.t()`.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
                /// assert_eq!(x.t().to_vec(), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
                /// ```
                t / try_t (&self) -> $ty<T> {
                    $crate::ops::compose::t(self)
                }
            }

            $crate::operators::fallible! { $ty;
                /// Swaps dims `d0` and `d1` (negative dims count from the end), as a view.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::zeros(&[2, 3, 4]);
                /// assert_eq!(x.transpose(0, -1).shape(), &[4, 3, 2]);
                /// ```
                transpose / try_transpose (&self, d0: impl $crate::Dim, d1: impl $crate::Dim) -> $ty<T> {
                    $crate::ops::compose::transpose(self, d0, d1)
                }
            }

            $crate::operators::fallible! { $ty;
                /// Reorders the dims: dim `i` of the result is dim `dims[i]` of `self`; a view.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::zeros(&[2, 3, 4]);
                /// assert_eq!(x.permute(&[2, 0, 1]).shape(), &[4, 2, 3]);
                /// ```
                permute / try_permute (&self, dims: &[usize]) -> $ty<T> {
                    <Self as $crate::ops::Value<T>>::try_view_op(
                        self,
                        $crate::ops::View::Permute($crate::shape::shape_of(dims)),
                    )
                }
            }

            $crate::operators::fallible! { $ty;
                /// The same elements in a new shape of the same count; one dim may be `-1`
                /// and is inferred. A view of a contiguous value, a copy otherwise.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::arange(0.0, 6.0, 1.0);
                /// assert_eq!(x.reshape(&[2, 3]).shape(), &[2, 3]);
                /// assert_eq!(x.reshape(&[-1, 2]).shape(), &[3, 2]);
                /// assert!(x.try_reshape(&[4, 2]).is_err());
                /// ```
                reshape / try_reshape (&self, shape: &(impl $crate::ShapeArg + ?Sized)) -> $ty<T> {
                    $crate::ops::compose::reshape(self, shape)
                }
            }

            $crate::operators::fallible! { $ty;
                /// A view of `shape` repeating this value along broadcast dims (PyTorch's
                /// `expand`); no copy.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let row: Tensor = Tensor::from_vec(vec![1.0, 2.0], &[2]);
                /// assert_eq!(row.broadcast_to(&[2, 2]).to_vec(), vec![1.0, 2.0, 1.0, 2.0]);
                /// ```
                broadcast_to / try_broadcast_to (&self, shape: &[usize]) -> $ty<T> {
                    $crate::ops::compose::broadcast_to(self, shape)
                }
            }

            $crate::operators::fallible! { $ty;
                /// Inserts a dim of size 1 at `dim` (`0..=ndim`; `-1` appends).
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::zeros(&[2, 3]);
                /// assert_eq!(x.unsqueeze(0).shape(), &[1, 2, 3]);
                /// assert_eq!(x.unsqueeze(-1).shape(), &[2, 3, 1]);
                /// ```
                unsqueeze / try_unsqueeze (&self, dim: impl $crate::Dim) -> $ty<T> {
                    $crate::ops::compose::unsqueeze(self, dim)
                }
            }

            $crate::operators::fallible! { $ty;
                /// Removes dim `dim` if it has size 1; leaves the value as it is otherwise,
                /// as PyTorch's `squeeze(dim)` does.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::zeros(&[2, 1]);
                /// assert_eq!(x.squeeze_dim(-1).shape(), &[2]);
                /// assert_eq!(x.squeeze_dim(0).shape(), &[2, 1]);
                /// ```
                squeeze_dim / try_squeeze_dim (&self, dim: impl $crate::Dim) -> $ty<T> {
                    $crate::ops::compose::squeeze_dim(self, dim)
                }
            }

            $crate::operators::fallible! { $ty;
                /// A contiguous (row-major, dense) value with the same contents: `self` if
                /// it already is one.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::zeros(&[2, 3]);
                /// assert!(x.t().contiguous().is_contiguous());
                /// ```
                contiguous / try_contiguous (&self) -> $ty<T> {
                    <Self as $crate::ops::Value<T>>::try_view_op(self, $crate::ops::View::Contiguous)
                }
            }

            $crate::operators::fallible! { $ty;
                /// `len` elements of dim `dim` from `start` on, as a view (no copy), like
                /// `torch.narrow`. An error if `start + len` passes the end of the dim.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::arange(0.0, 6.0, 1.0).reshape(&[2, 3]);
                /// assert_eq!(x.narrow(-1, 1, 2).to_vec(), vec![1.0, 2.0, 4.0, 5.0]);
                /// assert!(x.try_narrow(1, 2, 2).is_err());
                /// ```
                narrow / try_narrow (&self, dim: impl $crate::Dim, start: usize, len: usize) -> $ty<T> {
                    let dims = <Self as $crate::ops::Value<T>>::dims(self);
                    let dim = $crate::dim::resolve_dim("narrow", dim, dims)?;
                    <Self as $crate::ops::Value<T>>::try_view_op(
                        self,
                        $crate::ops::View::Narrow { dim, start, len },
                    )
                }
            }

            $crate::operators::fallible! { $ty;
                /// The size of dim `dim` (negative dims count from the end), like `x.size(dim)`.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::zeros(&[2, 3]);
                /// assert_eq!((x.size(0), x.size(-1)), (2, 3));
                /// ```
                size / try_size (&self, dim: impl $crate::Dim) -> usize {
                    let dims = <Self as $crate::ops::Value<T>>::dims(self);
                    Ok(dims[$crate::dim::resolve_dim("size", dim, dims)?])
                }
            }

            /// The shape, like `shape()` (candle's name).
            ///
            /// ```
            /// use tapegrad::Tensor;
            /// assert_eq!(Tensor::<f32>::zeros(&[2, 3]).dims(), &[2, 3]);
            /// ```
            pub fn dims(&self) -> &[usize] {
                <Self as $crate::ops::Value<T>>::dims(self)
            }
        }
    };
}

/// The differentiable math: on `Tensor<T: Float>` and `Node<T: Float>`. `$indices` is the
/// type `argmax_dim` returns (`Tensor<i64>`; a graph, whose values share one element type,
/// gives indices as `Node<T>`).
macro_rules! float_methods {
    ($ty:ident, $indices:ty) => {
        impl<T: $crate::Float> $ty<T> {
            /// Elementwise `self + other` with broadcasting; also `&a + &b`.
            ///
            /// ```
            /// use tapegrad::Tensor;
            /// let a: Tensor = Tensor::ones(&[2, 3]);
            /// assert_eq!(a.try_add(&Tensor::ones(&[3])).unwrap().to_vec(), vec![2.0; 6]);
            /// assert!(a.try_add(&Tensor::ones(&[2])).is_err());
            /// ```
            #[track_caller]
            pub fn try_add(&self, other: &$ty<T>) -> $crate::Result<$ty<T>> {
                let _site = $crate::autograd::anomaly::enter(std::panic::Location::caller());
                $crate::ops::Value::try_apply($crate::ops::Add.into(), &[self, other])
            }

            /// Elementwise `self - other` with broadcasting; also `&a - &b`.
            ///
            /// ```
            /// use tapegrad::Tensor;
            /// let a: Tensor = Tensor::ones(&[2]);
            /// assert_eq!(a.try_sub(&a).unwrap().to_vec(), vec![0.0, 0.0]);
            /// ```
            #[track_caller]
            pub fn try_sub(&self, other: &$ty<T>) -> $crate::Result<$ty<T>> {
                let _site = $crate::autograd::anomaly::enter(std::panic::Location::caller());
                $crate::ops::Value::try_apply($crate::ops::Sub.into(), &[self, other])
            }

            /// Elementwise `self * other` with broadcasting; also `&a * &b`.
            ///
            /// ```
            /// use tapegrad::Tensor;
            /// let a: Tensor = Tensor::from_vec(vec![2.0, 3.0], &[2]);
            /// assert_eq!(a.try_mul(&a).unwrap().to_vec(), vec![4.0, 9.0]);
            /// ```
            #[track_caller]
            pub fn try_mul(&self, other: &$ty<T>) -> $crate::Result<$ty<T>> {
                let _site = $crate::autograd::anomaly::enter(std::panic::Location::caller());
                $crate::ops::Value::try_apply($crate::ops::Mul.into(), &[self, other])
            }

            /// Elementwise `self / other` with broadcasting; also `&a / &b`.
            ///
            /// ```
            /// use tapegrad::Tensor;
            /// let a: Tensor = Tensor::from_vec(vec![2.0, 3.0], &[2]);
            /// assert_eq!(a.try_div(&a).unwrap().to_vec(), vec![1.0, 1.0]);
            /// ```
            #[track_caller]
            pub fn try_div(&self, other: &$ty<T>) -> $crate::Result<$ty<T>> {
                let _site = $crate::autograd::anomaly::enter(std::panic::Location::caller());
                $crate::ops::Value::try_apply($crate::ops::Div.into(), &[self, other])
            }

            $crate::operators::fallible! { $ty;
                /// `self ^ exponent` elementwise (`x.pow(2)` in PyTorch).
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![1.0, -2.0, 3.0], &[3]);
                /// assert_eq!(x.pow(2.0).to_vec(), vec![1.0, 4.0, 9.0]);
                /// ```
                pow / try_pow (&self, exponent: T) -> $ty<T> {
                    $crate::ops::Value::try_apply($crate::ops::Pow(exponent).into(), &[self])
                }
            }

            $crate::ops::methods::float_methods!(@unary $ty;
                /// `e^x` elementwise.
                exp / try_exp => Exp ([0.0, 1.0] => [1.0, std::f64::consts::E]);
                /// Natural logarithm elementwise.
                log / try_log => Log ([1.0, std::f64::consts::E] => [0.0, 1.0]);
                /// Square root elementwise.
                sqrt / try_sqrt => Sqrt ([4.0, 2.25] => [2.0, 1.5]);
                /// Absolute value elementwise.
                abs / try_abs => Abs ([-2.0, 3.0] => [2.0, 3.0]);
                /// `max(x, 0)` elementwise (NaN stays NaN).
                relu / try_relu => Relu ([-1.0, 2.0] => [0.0, 2.0]);
                /// The logistic function `1 / (1 + e^-x)` elementwise.
                sigmoid / try_sigmoid => Sigmoid ([0.0, std::f64::consts::LN_2] => [0.5, 2.0 / 3.0]);
                /// Hyperbolic tangent elementwise.
                tanh / try_tanh => Tanh ([0.0, f64::INFINITY] => [0.0, 1.0]);
                /// `ln(1 + e^x)` elementwise, without overflow for large `x` (like `F.softplus`).
                softplus / try_softplus => Softplus ([0.0, 100.0] => [std::f64::consts::LN_2, 100.0]);
                /// Sum of all elements, as a scalar (shape `[]`).
                sum / try_sum => Sum ([1.0, 2.0, 3.5] => [6.5]);
                /// Mean of all elements, as a scalar (NaN for an empty tensor, as in PyTorch).
                mean / try_mean => Mean ([1.0, 2.0, 3.0] => [2.0]);
            );

            $crate::operators::fallible! { $ty;
                /// Each element limited to `[min, max]`, like `torch.clamp` (NaN stays NaN).
                /// The gradient passes strictly between the bounds (0 at a bound), as
                /// PyTorch's. An error if `min > max`.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![-2.0, 0.5, 3.0], &[3]);
                /// assert_eq!(x.clamp(-1.0, 1.0).to_vec(), vec![-1.0, 0.5, 1.0]);
                /// assert!(x.try_clamp(1.0, -1.0).is_err());
                /// ```
                clamp / try_clamp (&self, min: T, max: T) -> $ty<T> {
                    if min > max {
                        return Err($crate::Error::new(
                            $crate::ErrorKind::Value,
                            "clamp",
                            format!("min {min:?} is greater than max {max:?} (shape {:?})", self.dims()),
                        ));
                    }
                    let (min, max) = (Some(min), Some(max));
                    $crate::ops::Value::try_apply($crate::ops::Clamp { min, max }.into(), &[self])
                }
            }

            $crate::operators::fallible! { $ty;
                /// Each element at least `min`, like `torch.clamp_min` (`clamp(min, inf)`).
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![-2.0, 3.0], &[2]);
                /// assert_eq!(x.clamp_min(0.0).to_vec(), vec![0.0, 3.0]);
                /// ```
                clamp_min / try_clamp_min (&self, min: T) -> $ty<T> {
                    let clamp = $crate::ops::Clamp { min: Some(min), max: None };
                    $crate::ops::Value::try_apply(clamp.into(), &[self])
                }
            }

            $crate::operators::fallible! { $ty;
                /// Each element at most `max`, like `torch.clamp_max` (`clamp(-inf, max)`).
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![-2.0, 3.0], &[2]);
                /// assert_eq!(x.clamp_max(0.0).to_vec(), vec![-2.0, 0.0]);
                /// ```
                clamp_max / try_clamp_max (&self, max: T) -> $ty<T> {
                    let clamp = $crate::ops::Clamp { min: None, max: Some(max) };
                    $crate::ops::Value::try_apply(clamp.into(), &[self])
                }
            }

            $crate::operators::fallible! { $ty;
                /// Sum along `dim` (negative dims count from the end), keeping it as size 1
                /// if `keepdim`.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
                /// assert_eq!(x.sum_dim(1, false).to_vec(), vec![6.0, 15.0]);
                /// assert_eq!(x.sum_dim(-2, true).shape(), &[1, 3]);
                /// ```
                sum_dim / try_sum_dim (&self, dim: impl $crate::Dim, keepdim: bool) -> $ty<T> {
                    if self.dims().is_empty() {
                        // PyTorch's leniency: dim 0 (or -1) of a 0-d value is the value.
                        $crate::dim::resolve_reduce_dim("sum_dim", dim, &[])?;
                        return Ok(self.clone());
                    }
                    let dim = $crate::dim::resolve_dim("sum_dim", dim, self.dims())?;
                    $crate::ops::Value::try_apply($crate::ops::SumDim { dim, keepdim }.into(), &[self])
                }
            }

            $crate::operators::fallible! { $ty;
                /// Mean along `dim`, keeping it as size 1 if `keepdim`.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
                /// assert_eq!(x.mean_dim(-1, false).to_vec(), vec![1.5, 3.5]);
                /// ```
                mean_dim / try_mean_dim (&self, dim: impl $crate::Dim, keepdim: bool) -> $ty<T> {
                    if self.dims().is_empty() {
                        $crate::dim::resolve_reduce_dim("mean_dim", dim, &[])?;
                        return Ok(self.clone());
                    }
                    let dim = $crate::dim::resolve_dim("mean_dim", dim, self.dims())?;
                    $crate::ops::Value::try_apply($crate::ops::MeanDim { dim, keepdim }.into(), &[self])
                }
            }

            $crate::operators::fallible! { $ty;
                /// The max along `dim` and its index (the first on ties; NaN wins), like
                /// `torch.max(x, dim)`. The values are differentiable: the gradient goes to
                /// the index.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![1.0, 5.0, 3.0, 4.0, 2.0, 6.0], &[2, 3]);
                /// let (values, indices) = x.max_dim(1, false);
                /// assert_eq!(values.to_vec(), vec![5.0, 6.0]);
                /// assert_eq!(indices.to_vec(), vec![1, 2]);
                /// ```
                max_dim / try_max_dim (&self, dim: impl $crate::Dim, keepdim: bool) -> ($ty<T>, $indices) {
                    let dim = $crate::dim::resolve_dim("max_dim", dim, self.dims())?;
                    let values = $crate::ops::Value::try_apply($crate::ops::MaxDim { dim, keepdim }.into(), &[self])?;
                    Ok((values, self.try_argmax_dim(dim, keepdim)?))
                }
            }

            $crate::operators::fallible! { $ty;
                /// Matrix product of two 2-D values, like `torch.mm`.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let a: Tensor = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
                /// assert_eq!(a.mm(&Tensor::eye(2)).to_vec(), a.to_vec());
                /// let e = a.try_mm(&Tensor::zeros(&[3, 1])).unwrap_err();
                /// assert_eq!(e.to_string(), "mm: cannot multiply [2, 2] by [3, 1]: inner dimensions 2 and 3 differ");
                /// ```
                mm / try_mm (&self, other: &$ty<T>) -> $ty<T> {
                    $crate::ops::compose::mm(self, other)
                }
            }

            $crate::operators::fallible! { $ty;
                /// Matrix product like `torch.matmul`: 1-D · 1-D is a dot product, a 1-D
                /// operand is a row (left) or column (right) vector whose dim is removed
                /// after, and more than 2 dims are batches, broadcast against each other.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let batch: Tensor = Tensor::ones(&[5, 2, 3]);
                /// let w: Tensor = Tensor::ones(&[3, 4]);
                /// assert_eq!(batch.matmul(&w).shape(), &[5, 2, 4]);
                /// let v: Tensor = Tensor::ones(&[3]);
                /// assert_eq!(v.matmul(&v).item(), 3.0);
                /// ```
                matmul / try_matmul (&self, other: &$ty<T>) -> $ty<T> {
                    $crate::ops::compose::matmul(self, other)
                }
            }
        }
    };
    (@unary $ty:ident; $($(#[$doc:meta])* $name:ident / $try_name:ident => $op:ident
        ([$($input:expr),*] => [$($output:expr),*]);)*) => {$(
        $crate::operators::fallible! { $ty;
            $(#[$doc])*
            #[doc = ""]
            #[doc = "```"]
            #[doc = "use tapegrad::Tensor;"]
            #[doc = concat!("let v = vec![", stringify!($($input),*), "];")]
            #[doc = "let x = Tensor::<f64>::from_vec(v.clone(), &[v.len()]);"]
            #[doc = concat!("let y = x.", stringify!($name), "().to_vec();")]
            #[doc = concat!("let want = [", stringify!($($output),*), "];")]
            #[doc = "assert!(y.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12), \"{y:?}\");"]
            #[doc = "```"]
            $name / $try_name (&self) -> $ty<T> {
                $crate::ops::Value::try_apply($crate::ops::$op.into(), &[self])
            }
        }
    )*};
}

pub(crate) use {float_methods, view_methods};
