//! Making tensors: from data, filled, ranges, identity, and random.

use super::Tensor;
use crate::array::Array;
use crate::element::{convert, Element, Float};
use crate::error::{or_panic, Error, Result};
use crate::rng::with_rng;
use crate::shape::numel;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

impl<T: Element> Tensor<T> {
    /// A tensor of `shape` holding `data` in row-major order. Panics if the length does not
    /// match (see [`Tensor::try_from_vec`]).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::from_vec(vec![0.2, 0.3, 0.1, 0.9], &[1, 4]);
    /// assert_eq!(x.shape(), &[1, 4]);
    /// ```
    #[track_caller]
    pub fn from_vec(data: Vec<T>, shape: &[usize]) -> Tensor<T> {
        or_panic(Tensor::try_from_vec(data, shape))
    }

    /// [`Tensor::from_vec`] returning an error when `data.len()` differs from the shape's
    /// element count.
    pub fn try_from_vec(data: Vec<T>, shape: &[usize]) -> Result<Tensor<T>> {
        if data.len() != numel(shape) {
            return Err(Error::shape(
                "from_vec",
                format!(
                    "{} values cannot fill shape {shape:?} ({} elements)",
                    data.len(),
                    numel(shape)
                ),
            ));
        }
        Ok(Tensor::from_array(Array::from_vec(data, shape)))
    }

    /// A 0-dim tensor holding `value` (shape `[]`).
    pub fn scalar(value: T) -> Tensor<T> {
        Tensor::from_array(Array::scalar(value))
    }

    /// A tensor of `shape` filled with `value`.
    pub fn full(shape: &[usize], value: T) -> Tensor<T> {
        Tensor::from_array(Array::full(shape, value))
    }

    /// A tensor of zeros (`false` for `bool`).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert_eq!(Tensor::<i64>::zeros(&[2]).to_vec(), vec![0, 0]);
    /// ```
    pub fn zeros(shape: &[usize]) -> Tensor<T> {
        Tensor::full(shape, T::default())
    }

    /// A tensor of ones (`true` for `bool`).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert_eq!(Tensor::<bool>::ones(&[2]).to_vec(), vec![true, true]);
    /// ```
    pub fn ones(shape: &[usize]) -> Tensor<T> {
        Tensor::full(shape, convert(true))
    }

    /// Zeros of the same shape as `self`.
    pub fn zeros_like(&self) -> Tensor<T> {
        Tensor::zeros(self.shape())
    }

    /// Ones of the same shape as `self`.
    pub fn ones_like(&self) -> Tensor<T> {
        Tensor::ones(self.shape())
    }
}

impl<T: Float> Tensor<T> {
    /// `[start, start + step, ...]` up to but excluding `end`, like `torch.arange`.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert_eq!(Tensor::<f32>::arange(0.0, 1.0, 0.25).to_vec(), vec![0.0, 0.25, 0.5, 0.75]);
    /// ```
    #[track_caller]
    pub fn arange(start: T, end: T, step: T) -> Tensor<T> {
        or_panic(Tensor::try_arange(start, end, step))
    }

    /// [`Tensor::arange`] returning an error for a zero step, a step pointing away from
    /// `end`, or non-finite bounds.
    pub fn try_arange(start: T, end: T, step: T) -> Result<Tensor<T>> {
        let bad = |why: &str| {
            Err(Error::shape(
                "arange",
                format!(
                    "{why} (start {:?}, end {:?}, step {:?})",
                    start.to_f64(),
                    end.to_f64(),
                    step.to_f64()
                ),
            ))
        };
        if !(start.is_finite() && end.is_finite() && step.is_finite()) {
            return bad("bounds and step must be finite");
        }
        if step == T::zero() {
            return bad("step must be nonzero");
        }
        if (end - start) * step < T::zero() {
            return bad("step points away from end");
        }
        let count = ((end - start) / step).ceil().to_usize().unwrap_or(0);
        let data: Vec<T> = (0..count)
            .map(|i| start + T::from(i).unwrap_or_else(T::nan) * step)
            .collect();
        let n = data.len();
        Ok(Tensor::from_array(Array::from_vec(data, &[n])))
    }

    /// The `n x n` identity matrix.
    pub fn eye(n: usize) -> Tensor<T> {
        let mut data = vec![T::zero(); n * n];
        data.iter_mut().step_by(n + 1).for_each(|d| *d = T::one());
        Tensor::from_array(Array::from_vec(data, &[n, n]))
    }

    /// Samples from the standard normal N(0, 1), from the generator seeded by
    /// [`manual_seed`](crate::manual_seed).
    pub fn randn(shape: &[usize]) -> Tensor<T> {
        let data = with_rng(|rng| {
            (0..numel(shape))
                .map(|_| {
                    T::from(<StandardNormal as Distribution<f64>>::sample(
                        &StandardNormal,
                        rng,
                    ))
                    .unwrap_or_else(T::nan)
                })
                .collect()
        });
        Tensor::from_array(Array::from_vec(data, shape))
    }

    /// Samples from the uniform distribution on [0, 1), from the seeded generator.
    pub fn rand(shape: &[usize]) -> Tensor<T> {
        Tensor::rand_uniform(shape, T::zero(), T::one())
    }

    /// Samples from the uniform distribution on [low, high), from the seeded generator.
    pub fn rand_uniform(shape: &[usize], low: T, high: T) -> Tensor<T> {
        let (lo, hi) = (
            low.to_f64().unwrap_or(f64::NAN),
            high.to_f64().unwrap_or(f64::NAN),
        );
        let data = with_rng(|rng| {
            (0..numel(shape))
                .map(|_| {
                    let u: f64 = rng.random();
                    // Rounding to T can land on `high`; keep the interval half-open.
                    let v = T::from(lo + (hi - lo) * u).unwrap_or_else(T::nan);
                    if v >= high && high > low {
                        low
                    } else {
                        v
                    }
                })
                .collect()
        });
        Tensor::from_array(Array::from_vec(data, shape))
    }
}
