//! The elementwise functions, activations, min/max and reductions of `Tensor` and
//! `graph::Node`, defined once (like `methods.rs`). Composite functions are written from
//! the primitives, so their gradients, and the static graph's, come from the primitives'.

/// `$ty<T: Float>`: the math methods; `$indices` is the type `min_dim` returns indices in.
macro_rules! math_methods {
    ($ty:ident, $indices:ty) => {
        impl<T: $crate::Float> $ty<T> {
            $crate::ops::methods::float_methods!(@unary $ty;
                /// `sin x` elementwise.
                sin / try_sin => Sin ([0.0, std::f64::consts::FRAC_PI_2] => [0.0, 1.0]);
                /// `cos x` elementwise.
                cos / try_cos => Cos ([0.0, std::f64::consts::PI] => [1.0, -1.0]);
                /// `tan x` elementwise.
                tan / try_tan => Tan ([0.0, std::f64::consts::FRAC_PI_4] => [0.0, 1.0]);
                /// `ln(1 + x)` elementwise, accurate near 0.
                log1p / try_log1p => Log1p ([0.0, std::f64::consts::E - 1.0] => [0.0, 1.0]);
                /// `e^x - 1` elementwise, accurate near 0.
                expm1 / try_expm1 => Expm1 ([0.0, 1.0] => [0.0, std::f64::consts::E - 1.0]);
                /// `log₂ x` elementwise.
                log2 / try_log2 => Log2 ([8.0, 0.5] => [3.0, -1.0]);
                /// `log₁₀ x` elementwise.
                log10 / try_log10 => Log10 ([1000.0, 0.1] => [3.0, -1.0]);
                /// `2^x` elementwise.
                exp2 / try_exp2 => Exp2 ([3.0, -1.0] => [8.0, 0.5]);
                /// The error function elementwise.
                erf / try_erf => Erf ([0.0, 1.0] => [0.0, 0.8427007929497149]);
                /// -1, 0 or 1 by the sign (NaN stays NaN); gradient 0.
                sign / try_sign => Sign ([-2.0, 0.0, 3.0] => [-1.0, 0.0, 1.0]);
                /// Rounds down elementwise; gradient 0.
                floor / try_floor => Floor ([-1.5, 2.7] => [-2.0, 2.0]);
                /// Rounds up elementwise; gradient 0.
                ceil / try_ceil => Ceil ([-1.5, 2.2] => [-1.0, 3.0]);
                /// Rounds to the nearest whole number, halves to even like `torch.round`;
                /// gradient 0.
                round / try_round => Round ([0.5, 1.5, 2.6] => [0.0, 2.0, 3.0]);
                /// Rounds toward zero elementwise; gradient 0.
                trunc / try_trunc => Trunc ([-1.7, 2.7] => [-1.0, 2.0]);
            );

            $crate::operators::fallible! { $ty;
                /// `x²` elementwise.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![-3.0, 2.0], &[2]);
                /// assert_eq!(x.square().to_vec(), vec![9.0, 4.0]);
                /// ```
                square / try_square (&self) -> $ty<T> {
                    self.try_pow(T::one() + T::one())
                }
            }

            $crate::operators::fallible! { $ty;
                /// `1 / x` elementwise (`torch.reciprocal`).
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![4.0, 0.5], &[2]);
                /// assert_eq!(x.recip().to_vec(), vec![0.25, 2.0]);
                /// ```
                recip / try_recip (&self) -> $ty<T> {
                    self.try_pow(-T::one())
                }
            }

            $crate::operators::fallible! { $ty;
                /// `1 / √x` elementwise.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![4.0, 0.25], &[2]);
                /// assert_eq!(x.rsqrt().to_vec(), vec![0.5, 2.0]);
                /// ```
                rsqrt / try_rsqrt (&self) -> $ty<T> {
                    self.try_pow(-$crate::ops::grad::count::<T>(1) / (T::one() + T::one()))
                }
            }

            $crate::operators::fallible! { $ty;
                /// `self ^ exponent` elementwise with broadcasting (`torch.pow(a, b)`). The
                /// gradients follow PyTorch: 0 for `a` where `b == 0`, and 0 for `b` where
                /// `a == 0` and `b >= 0`.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let a: Tensor = Tensor::from_vec(vec![2.0, 3.0], &[2]);
                /// let b: Tensor = Tensor::from_vec(vec![3.0, 2.0], &[2]);
                /// assert_eq!(a.pow_tensor(&b).to_vec(), vec![8.0, 9.0]);
                /// ```
                pow_tensor / try_pow_tensor (&self, exponent: &$ty<T>) -> $ty<T> {
                    $crate::ops::Value::try_apply($crate::ops::PowTensor.into(), &[self, exponent])
                }
            }

            $crate::operators::fallible! { $ty;
                /// `x` where `x > 0`, else `slope · x` (`F.leaky_relu`); the gradient at 0
                /// is `slope`, as PyTorch's.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![-2.0, 3.0], &[2]);
                /// assert_eq!(x.leaky_relu(0.1).to_vec(), vec![-0.2, 3.0]);
                /// ```
                leaky_relu / try_leaky_relu (&self, slope: T) -> $ty<T> {
                    $crate::ops::compose::select_positive(self, self, &(self * slope))
                }
            }

            $crate::operators::fallible! { $ty;
                /// `x` where `x > 0`, else `alpha (e^x - 1)` (`F.elu`).
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor<f64> = Tensor::from_vec(vec![-1.0, 2.0], &[2]);
                /// assert_eq!(x.elu(1.0).to_vec(), vec![(-1f64).exp_m1(), 2.0]);
                /// ```
                elu / try_elu (&self, alpha: T) -> $ty<T> {
                    // e^x - 1 of min(x, 0) (a select, so x = 0 keeps its gradient): the
                    // unused branch stays finite for large x, so its zero gradient cannot
                    // become 0 · inf.
                    let zeros = $crate::ops::Value::try_apply($crate::ops::FullLike(T::zero()).into(), &[self])?;
                    let at_most_zero = $crate::ops::compose::select_positive(self, &zeros, self)?;
                    let negative = at_most_zero.try_expm1()? * alpha;
                    $crate::ops::compose::select_positive(self, self, &negative)
                }
            }

            $crate::operators::fallible! { $ty;
                /// `scale · elu(x, alpha)` with SELU's constants (`F.selu`).
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor<f64> = Tensor::from_vec(vec![1.0], &[1]);
                /// assert!((x.selu().item() - 1.0507009873554805).abs() < 1e-15);
                /// ```
                selu / try_selu (&self) -> $ty<T> {
                    let alpha = T::from(1.673_263_242_354_377_3_f64).unwrap_or_else(T::nan);
                    let scale = T::from(1.050_700_987_355_480_5_f64).unwrap_or_else(T::nan);
                    Ok(self.try_elu(alpha)? * scale)
                }
            }

            $crate::operators::fallible! { $ty;
                /// GELU, `x Φ(x) = x/2 (1 + erf(x/√2))` (`F.gelu`), as one op. It keeps its
                /// relative accuracy in the negative tail, where PyTorch's `1 + erf` cancels
                /// (f32 within 5 ulp of the exact value everywhere; f64 through libm's `erfc`).
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor<f64> = Tensor::from_vec(vec![0.0, 1.0], &[2]);
                /// let y = x.gelu().to_vec();
                /// assert_eq!(y[0], 0.0);
                /// assert!((y[1] - 0.8413447460685429).abs() < 1e-15);
                /// ```
                gelu / try_gelu (&self) -> $ty<T> {
                    $crate::ops::Value::try_apply($crate::ops::Gelu.into(), &[self])
                }
            }

            $crate::operators::fallible! { $ty;
                /// GELU's tanh approximation (`F.gelu(x, approximate="tanh")`).
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor<f64> = Tensor::from_vec(vec![1.0], &[1]);
                /// assert!((x.gelu_tanh().item() - 0.8411919906082768).abs() < 1e-15);
                /// ```
                gelu_tanh / try_gelu_tanh (&self) -> $ty<T> {
                    let beta = T::from(std::f64::consts::SQRT_2 * std::f64::consts::FRAC_2_SQRT_PI * 0.5)
                        .unwrap_or_else(T::nan);
                    let kappa = T::from(0.044715).unwrap_or_else(T::nan);
                    let half = T::from(0.5).unwrap_or_else(T::nan);
                    let cube = &(self * self) * self;
                    let inner = (self + &(&cube * kappa)) * beta;
                    Ok((self * half) * (inner.try_tanh()? + T::one()))
                }
            }

            $crate::operators::fallible! { $ty;
                /// SiLU (swish), `x σ(x)` (`F.silu`).
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![0.0], &[1]);
                /// assert_eq!(x.silu().item(), 0.0);
                /// ```
                silu / try_silu (&self) -> $ty<T> {
                    self.try_mul(&self.try_sigmoid()?)
                }
            }

            $crate::operators::fallible! { $ty;
                /// Mish, `x tanh(softplus(x))` (`F.mish`).
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor<f64> = Tensor::from_vec(vec![1.0], &[1]);
                /// assert!((x.mish().item() - 0.8650983882673103).abs() < 1e-15);
                /// ```
                mish / try_mish (&self) -> $ty<T> {
                    self.try_mul(&self.try_softplus()?.try_tanh()?)
                }
            }

            $crate::operators::fallible! { $ty;
                /// `x` limited to `[min, max]` (`F.hardtanh`): `clamp`, with its gradient (0
                /// at the bounds). An error if `min > max`.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![-3.0, 0.5, 3.0], &[3]);
                /// assert_eq!(x.hardtanh(-1.0, 1.0).to_vec(), vec![-1.0, 0.5, 1.0]);
                /// ```
                hardtanh / try_hardtanh (&self, min: T, max: T) -> $ty<T> {
                    self.try_clamp(min, max)
                        .map_err(|e| $crate::Error::new(e.kind(), "hardtanh", e.message()))
                }
            }

            $crate::operators::fallible! { $ty;
                /// `min(max(x, 0), 6)` (`F.relu6`).
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![-1.0, 3.0, 7.0], &[3]);
                /// assert_eq!(x.relu6().to_vec(), vec![0.0, 3.0, 6.0]);
                /// ```
                relu6 / try_relu6 (&self) -> $ty<T> {
                    self.try_clamp(T::zero(), $crate::ops::grad::count::<T>(6))
                }
            }

            $crate::operators::fallible! { $ty;
                /// `ln σ(x) = -softplus(-x)`, without overflow (`F.logsigmoid`).
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor<f64> = Tensor::from_vec(vec![-1000.0, 0.0], &[2]);
                /// assert_eq!(x.log_sigmoid().to_vec(), vec![-1000.0, -(2f64.ln())]);
                /// ```
                log_sigmoid / try_log_sigmoid (&self) -> $ty<T> {
                    Ok(-(-self).try_softplus()?)
                }
            }

            $crate::operators::fallible! { $ty;
                /// `x / (1 + |x|)` (`F.softsign`).
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![-3.0, 1.0], &[2]);
                /// assert_eq!(x.softsign().to_vec(), vec![-0.75, 0.5]);
                /// ```
                softsign / try_softsign (&self) -> $ty<T> {
                    self.try_div(&(self.try_abs()? + T::one()))
                }
            }

            $crate::operators::fallible! { $ty;
                /// The larger of two values elementwise, with broadcasting (`torch.maximum`):
                /// NaN if either is NaN; a tie splits the gradient in half, as PyTorch's.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let a: Tensor = Tensor::from_vec(vec![1.0, 5.0], &[2]);
                /// let b: Tensor = Tensor::from_vec(vec![3.0, 2.0], &[2]);
                /// assert_eq!(a.maximum(&b).to_vec(), vec![3.0, 5.0]);
                /// ```
                maximum / try_maximum (&self, other: &$ty<T>) -> $ty<T> {
                    $crate::ops::Value::try_apply($crate::ops::Maximum { min: false }.into(), &[self, other])
                }
            }

            $crate::operators::fallible! { $ty;
                /// The smaller of two values elementwise (`torch.minimum`), like `maximum`.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let a: Tensor = Tensor::from_vec(vec![1.0, 5.0], &[2]);
                /// assert_eq!(a.minimum(&Tensor::scalar(2.0)).to_vec(), vec![1.0, 2.0]);
                /// ```
                minimum / try_minimum (&self, other: &$ty<T>) -> $ty<T> {
                    $crate::ops::Value::try_apply($crate::ops::Maximum { min: true }.into(), &[self, other])
                }
            }

            $crate::operators::fallible! { $ty;
                /// The largest element, a scalar (NaN if any is NaN); the elements that tie
                /// for it share the gradient evenly, as PyTorch's. An error when empty.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![1.0, 7.0, 3.0], &[3]);
                /// assert_eq!(x.max().item(), 7.0);
                /// ```
                max / try_max (&self) -> $ty<T> {
                    $crate::ops::Value::try_apply($crate::ops::MaxAll { min: false }.into(), &[self])
                }
            }

            $crate::operators::fallible! { $ty;
                /// The smallest element, a scalar, like `max`.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![1.0, 7.0, -3.0], &[3]);
                /// assert_eq!(x.min().item(), -3.0);
                /// ```
                min / try_min (&self) -> $ty<T> {
                    $crate::ops::Value::try_apply($crate::ops::MaxAll { min: true }.into(), &[self])
                }
            }

            $crate::operators::fallible! { $ty;
                /// The min along `dim` and its index (the first on ties), like
                /// `torch.min(x, dim)`; the gradient goes to that index.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![4.0, 1.0, 3.0, 0.0], &[2, 2]);
                /// let (values, indices) = x.min_dim(1, false);
                /// assert_eq!(values.to_vec(), vec![1.0, 0.0]);
                /// assert_eq!(indices.to_vec(), vec![1, 1]);
                /// ```
                min_dim / try_min_dim (&self, dim: impl $crate::Dim, keepdim: bool) -> ($ty<T>, $indices) {
                    let dim = $crate::dim::resolve_dim("min_dim", dim, self.dims())?;
                    let negated = -self;
                    let (values, _) = negated
                        .try_max_dim(dim, keepdim)
                        .map_err(|e| $crate::Error::new(e.kind(), "min_dim", e.message()))?;
                    Ok((-values, self.try_argmin_dim(dim, keepdim)?))
                }
            }

            $crate::operators::fallible! { $ty;
                /// The product of all elements, a scalar (1 when empty). Its gradient is
                /// exact where elements are 0.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![2.0, 3.0, 4.0], &[3]);
                /// assert_eq!(x.prod().item(), 24.0);
                /// ```
                prod / try_prod (&self) -> $ty<T> {
                    let n = self.dims().iter().product::<usize>();
                    let flat = $crate::ops::compose::reshape_to(self, &[n])?;
                    $crate::ops::Value::try_apply($crate::ops::ProdDim { dim: 0, keepdim: false }.into(), &[&flat])
                }
            }

            $crate::operators::fallible! { $ty;
                /// The product along `dim`.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
                /// assert_eq!(x.prod_dim(1, false).to_vec(), vec![2.0, 12.0]);
                /// ```
                prod_dim / try_prod_dim (&self, dim: impl $crate::Dim, keepdim: bool) -> $ty<T> {
                    let dim = $crate::dim::resolve_dim("prod_dim", dim, self.dims())?;
                    $crate::ops::Value::try_apply($crate::ops::ProdDim { dim, keepdim }.into(), &[self])
                }
            }

            $crate::operators::fallible! { $ty;
                /// The variance of all elements with Bessel's correction (divides by n - 1),
                /// like `torch.var`. NaN for fewer than 2 elements.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4]);
                /// assert!((x.var().item() - 5.0 / 3.0).abs() < 1e-6);
                /// ```
                var / try_var (&self) -> $ty<T> {
                    let n = self.dims().iter().product::<usize>();
                    let flat = $crate::ops::compose::reshape_to(self, &[n])?;
                    $crate::ops::compose::variance(&flat, 0, false)
                }
            }

            $crate::operators::fallible! { $ty;
                /// The standard deviation of all elements (correction 1), like `torch.std`;
                /// its gradient is 0 where it is 0, as PyTorch's.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor<f64> = Tensor::from_vec(vec![1.0, 3.0], &[2]);
                /// assert_eq!(x.std().item(), 2f64.sqrt());
                /// ```
                std / try_std (&self) -> $ty<T> {
                    $crate::ops::Value::try_apply($crate::ops::SqrtOrZero.into(), &[&self.try_var()?])
                }
            }

            $crate::operators::fallible! { $ty;
                /// The variance along `dim` (correction 1).
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![1.0, 3.0, 2.0, 2.0], &[2, 2]);
                /// assert_eq!(x.var_dim(1, false).to_vec(), vec![2.0, 0.0]);
                /// ```
                var_dim / try_var_dim (&self, dim: impl $crate::Dim, keepdim: bool) -> $ty<T> {
                    let dim = $crate::dim::resolve_dim("var_dim", dim, self.dims())?;
                    $crate::ops::compose::variance(self, dim, keepdim)
                }
            }

            $crate::operators::fallible! { $ty;
                /// The standard deviation along `dim` (correction 1).
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![1.0, 3.0, 2.0, 2.0], &[2, 2]);
                /// assert_eq!(x.std_dim(-1, true).shape(), &[2, 1]);
                /// ```
                std_dim / try_std_dim (&self, dim: impl $crate::Dim, keepdim: bool) -> $ty<T> {
                    let var = self.try_var_dim(dim, keepdim)?;
                    $crate::ops::Value::try_apply($crate::ops::SqrtOrZero.into(), &[&var])
                }
            }

            $crate::operators::fallible! { $ty;
                /// `log(sum(exp(x)))` along `dim`, without overflow (`torch.logsumexp`).
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor<f64> = Tensor::from_vec(vec![1000.0, 1000.0], &[2]);
                /// assert_eq!(x.logsumexp(0, false).item(), 1000.0 + 2f64.ln());
                /// ```
                logsumexp / try_logsumexp (&self, dim: impl $crate::Dim, keepdim: bool) -> $ty<T> {
                    let dim = $crate::dim::resolve_dim("logsumexp", dim, self.dims())?;
                    $crate::ops::Value::try_apply($crate::ops::LogSumExp { dim, keepdim }.into(), &[self])
                }
            }

            $crate::operators::fallible! { $ty;
                /// Running sums along `dim` (`torch.cumsum`), accumulated in f64 like
                /// PyTorch's CPU kernel.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]);
                /// assert_eq!(x.cumsum(0).to_vec(), vec![1.0, 3.0, 6.0]);
                /// ```
                cumsum / try_cumsum (&self, dim: impl $crate::Dim) -> $ty<T> {
                    let dim = $crate::dim::resolve_dim("cumsum", dim, self.dims())?;
                    $crate::ops::Value::try_apply($crate::ops::Cumsum { dim, reverse: false }.into(), &[self])
                }
            }

            $crate::operators::fallible! { $ty;
                /// Running products along `dim` (`torch.cumprod`); the gradient is exact
                /// where elements are 0.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]);
                /// assert_eq!(x.cumprod(0).to_vec(), vec![1.0, 2.0, 6.0]);
                /// ```
                cumprod / try_cumprod (&self, dim: impl $crate::Dim) -> $ty<T> {
                    let dim = $crate::dim::resolve_dim("cumprod", dim, self.dims())?;
                    $crate::ops::Value::try_apply($crate::ops::Cumprod { dim }.into(), &[self])
                }
            }

            $crate::operators::fallible! { $ty;
                /// The L2 norm of all elements, a scalar (`torch.linalg.vector_norm`); its
                /// gradient at 0 is 0, as PyTorch's.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![3.0, 4.0], &[2]);
                /// assert_eq!(x.norm().item(), 5.0);
                /// ```
                norm / try_norm (&self) -> $ty<T> {
                    let squares = self.try_mul(self)?.try_sum()?;
                    $crate::ops::Value::try_apply($crate::ops::SqrtOrZero.into(), &[&squares])
                }
            }

            $crate::operators::fallible! { $ty;
                /// The L2 norm along `dim`.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![3.0, 4.0, 0.0, 1.0], &[2, 2]);
                /// assert_eq!(x.norm_dim(1, false).to_vec(), vec![5.0, 1.0]);
                /// ```
                norm_dim / try_norm_dim (&self, dim: impl $crate::Dim, keepdim: bool) -> $ty<T> {
                    let squares = self.try_mul(self)?.try_sum_dim(dim, keepdim)
                        .map_err(|e| $crate::Error::new(e.kind(), "norm_dim", e.message()))?;
                    $crate::ops::Value::try_apply($crate::ops::SqrtOrZero.into(), &[&squares])
                }
            }
        }
    };
}

pub(crate) use math_methods;
