//! Making tensors: from data, filled, ranges, identity, and random.

use super::Tensor;
use crate::array::Array;
use crate::element::{convert, Element, Float};
use crate::error::{or_panic, Error, ErrorKind, Result};
use crate::rng::with_rng;
use crate::shape::check_numel;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use std::mem::MaybeUninit;

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
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert!(Tensor::<f32>::try_from_vec(vec![1.0; 3], &[2, 2]).is_err());
    /// assert!(Tensor::<f32>::try_from_vec(vec![], &[1 << 32, 1 << 32]).is_err()); // no overflow
    /// ```
    pub fn try_from_vec(data: Vec<T>, shape: &[usize]) -> Result<Tensor<T>> {
        let count = check_numel("from_vec", shape)?;
        if data.len() != count {
            return Err(Error::shape(
                "from_vec",
                format!(
                    "{} values cannot fill shape {shape:?} ({count} elements)",
                    data.len()
                ),
            ));
        }
        Ok(Tensor::from_array(Array::from_vec(data, shape)))
    }

    /// A 0-dim tensor holding `value` (shape `[]`).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let s = Tensor::<f64>::scalar(2.5);
    /// assert_eq!((s.shape(), s.item()), (&[][..], 2.5));
    /// ```
    pub fn scalar(value: T) -> Tensor<T> {
        Tensor::from_array(Array::scalar(value))
    }

    /// A tensor of `shape` filled with `value`. Panics with [`Tensor::try_full`]'s error
    /// for a shape no tensor can have.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert_eq!(Tensor::<i64>::full(&[2], 7).to_vec(), vec![7, 7]);
    /// ```
    #[track_caller]
    pub fn full(shape: &[usize], value: T) -> Tensor<T> {
        or_panic(Tensor::try_full(shape, value))
    }

    /// [`Tensor::full`] returning an error when the element count overflows, or when the
    /// memory cannot be had (`ErrorKind::OutOfMemory`), instead of aborting.
    ///
    /// ```
    /// use tapegrad::{ErrorKind, Tensor};
    /// let e = Tensor::<f32>::try_full(&[1 << 40, 1 << 30], 0.0).unwrap_err();
    /// assert_eq!(e.kind(), ErrorKind::Shape);
    /// ```
    pub fn try_full(shape: &[usize], value: T) -> Result<Tensor<T>> {
        let count = check_numel("full", shape)?;
        Ok(Tensor::from_array(filled("full", shape, count, value)?))
    }

    /// A tensor of zeros (`false` for `bool`).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert_eq!(Tensor::<i64>::zeros(&[2]).to_vec(), vec![0, 0]);
    /// ```
    #[track_caller]
    pub fn zeros(shape: &[usize]) -> Tensor<T> {
        or_panic(Tensor::try_zeros(shape))
    }

    /// [`Tensor::zeros`] returning an error for an impossible size (see [`Tensor::try_full`]).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert!(Tensor::<f64>::try_zeros(&[usize::MAX, 2]).is_err());
    /// ```
    pub fn try_zeros(shape: &[usize]) -> Result<Tensor<T>> {
        Tensor::try_full(shape, T::default())
            .map_err(|e| Error::new(e.kind(), "zeros", e.message()))
    }

    /// A tensor of ones (`true` for `bool`).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert_eq!(Tensor::<bool>::ones(&[2]).to_vec(), vec![true, true]);
    /// ```
    #[track_caller]
    pub fn ones(shape: &[usize]) -> Tensor<T> {
        or_panic(Tensor::try_ones(shape))
    }

    /// [`Tensor::ones`] returning an error for an impossible size (see [`Tensor::try_full`]).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert!(Tensor::<i64>::try_ones(&[1 << 62, 1 << 62]).is_err());
    /// ```
    pub fn try_ones(shape: &[usize]) -> Result<Tensor<T>> {
        Tensor::try_full(shape, convert(true))
            .map_err(|e| Error::new(e.kind(), "ones", e.message()))
    }

    /// Zeros of the same shape as `self`.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::ones(&[2, 3]);
    /// assert_eq!(x.zeros_like().to_vec(), vec![0.0; 6]);
    /// ```
    pub fn zeros_like(&self) -> Tensor<T> {
        Tensor::zeros(self.shape())
    }

    /// Ones of the same shape as `self`.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x = Tensor::<i64>::zeros(&[2]);
    /// assert_eq!(x.ones_like().to_vec(), vec![1, 1]);
    /// ```
    pub fn ones_like(&self) -> Tensor<T> {
        Tensor::ones(self.shape())
    }
}

/// Buffers up to this many elements come from the per-thread pool; larger ones are
/// reserved fallibly, so a size the machine cannot hold is an error, not an abort.
const POOLED: usize = 1 << 16;

/// A contiguous array of `shape` (`count` elements, already checked) holding `value`.
fn filled<T: Element>(
    op: &'static str,
    shape: &[usize],
    count: usize,
    value: T,
) -> Result<Array<T>> {
    if count <= POOLED {
        return Ok(Array::full(shape, value));
    }
    // One pass, straight into the cache-line-aligned buffer; a size the allocator refuses
    // is an error (the only one `build_uninit` can raise).
    crate::array::catching_alloc_failure(
        || op,
        // SAFETY: every element is written with `value`.
        || Ok(unsafe { Array::build_uninit(shape, |out| out.fill(MaybeUninit::new(value))) }),
    )
    .map_err(|_| out_of_memory::<T>(op, shape, count))
}

/// An empty vector with room for `count` elements, or `ErrorKind::OutOfMemory`.
fn reserve<T: Element>(op: &'static str, shape: &[usize], count: usize) -> Result<Vec<T>> {
    let mut data = Vec::new();
    data.try_reserve_exact(count)
        .map_err(|_| out_of_memory::<T>(op, shape, count))?;
    Ok(data)
}

/// The error for `count` elements of `shape` that the allocator refused.
fn out_of_memory<T: Element>(op: &'static str, shape: &[usize], count: usize) -> Error {
    Error::new(
        ErrorKind::OutOfMemory,
        op,
        format!(
            "cannot allocate {count} elements ({} bytes) for shape {shape:?}",
            count.saturating_mul(T::DTYPE.size())
        ),
    )
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
    /// `end`, non-finite bounds, or more elements than a tensor can hold.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert!(Tensor::<f64>::try_arange(0.0, 1e30, 1.0).is_err()); // not silently empty
    /// ```
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
        let Some(count) = ((end - start) / step)
            .ceil()
            .to_usize()
            .filter(|&n| n <= crate::shape::MAX_NUMEL)
        else {
            return bad("too many elements for one tensor");
        };
        let mut data = reserve("arange", &[count], count)?;
        data.extend((0..count).map(|i| start + T::from(i).unwrap_or_else(T::nan) * step));
        let n = data.len();
        Ok(Tensor::from_array(Array::from_vec_aligned(data, &[n])))
    }

    /// The `n x n` identity matrix.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert_eq!(Tensor::<f32>::eye(2).to_vec(), vec![1.0, 0.0, 0.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn eye(n: usize) -> Tensor<T> {
        or_panic(Tensor::try_eye(n))
    }

    /// [`Tensor::eye`] returning an error when `n × n` elements cannot be held.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert_eq!(Tensor::<f32>::try_eye(2).unwrap().to_vec(), vec![1.0, 0.0, 0.0, 1.0]);
    /// assert!(Tensor::<f32>::try_eye(1 << 32).is_err());
    /// ```
    pub fn try_eye(n: usize) -> Result<Tensor<T>> {
        let count = check_numel("eye", &[n, n])?;
        let identity = filled("eye", &[n, n], count, T::zero())?;
        crate::array::apply_inplace_scalar(
            &identity.with_layout(crate::array::Layout {
                shape: smallvec::smallvec![n],
                strides: smallvec::smallvec![n + 1],
                offset: 0,
            }),
            |_| T::one(),
        );
        Ok(Tensor::from_array(identity))
    }

    /// Samples from the standard normal N(0, 1), from the generator seeded by
    /// [`manual_seed`](crate::manual_seed).
    ///
    /// ```
    /// use tapegrad::{manual_seed, Tensor};
    /// manual_seed(0);
    /// let a: Tensor = Tensor::randn(&[3]);
    /// manual_seed(0);
    /// assert_eq!(Tensor::<f32>::randn(&[3]).to_vec(), a.to_vec()); // the same seed, the same numbers
    /// ```
    #[track_caller]
    pub fn randn(shape: &[usize]) -> Tensor<T> {
        let count = or_panic(check_numel("randn", shape));
        let data = with_rng(|rng| {
            (0..count)
                .map(|_| {
                    T::from(<StandardNormal as Distribution<f64>>::sample(
                        &StandardNormal,
                        rng,
                    ))
                    .unwrap_or_else(T::nan)
                })
                .collect()
        });
        Tensor::from_array(Array::from_vec_aligned(data, shape))
    }

    /// Samples from the uniform distribution on [0, 1), from the seeded generator.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let u: Tensor = Tensor::rand(&[100]);
    /// assert!(u.to_vec().iter().all(|&v| (0.0..1.0).contains(&v)));
    /// ```
    pub fn rand(shape: &[usize]) -> Tensor<T> {
        Tensor::rand_uniform(shape, T::zero(), T::one())
    }

    /// Samples from the uniform distribution on [low, high), from the seeded generator.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let u = Tensor::<f64>::rand_uniform(&[100], -2.0, 2.0);
    /// assert!(u.to_vec().iter().all(|&v| (-2.0..2.0).contains(&v)));
    /// ```
    #[track_caller]
    pub fn rand_uniform(shape: &[usize], low: T, high: T) -> Tensor<T> {
        let count = or_panic(check_numel("rand_uniform", shape));
        let (lo, hi) = (
            low.to_f64().unwrap_or(f64::NAN),
            high.to_f64().unwrap_or(f64::NAN),
        );
        let data = with_rng(|rng| {
            (0..count)
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
        Tensor::from_array(Array::from_vec_aligned(data, shape))
    }
}

impl<T: Float> Tensor<T> {
    /// `steps` evenly spaced values from `start` to `end`, both included (`torch.linspace`,
    /// computed as PyTorch does: from `start` up to the middle, from `end` down after it, so
    /// the last value is exactly `end`).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert_eq!(Tensor::<f32>::linspace(0.0, 1.0, 5).to_vec(), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    /// assert_eq!(Tensor::<f32>::linspace(2.0, 3.0, 1).to_vec(), vec![2.0]);
    /// ```
    #[track_caller]
    pub fn linspace(start: T, end: T, steps: usize) -> Tensor<T> {
        or_panic(Tensor::try_linspace(start, end, steps))
    }

    /// [`Tensor::linspace`] returning an error when `steps` elements cannot be held.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert_eq!(Tensor::<f64>::try_linspace(-1.0, 1.0, 3).unwrap().to_vec(), vec![-1.0, 0.0, 1.0]);
    /// assert!(Tensor::<f32>::try_linspace(0.0, 1.0, usize::MAX).is_err());
    /// ```
    pub fn try_linspace(start: T, end: T, steps: usize) -> Result<Tensor<T>> {
        let count = check_numel("linspace", &[steps])?;
        let mut data = reserve("linspace", &[steps], count)?;
        let step = if steps > 1 {
            (end - start) / T::from(steps - 1).unwrap_or_else(T::nan)
        } else {
            T::zero()
        };
        let halfway = steps / 2;
        data.extend((0..steps).map(|i| {
            if steps == 1 {
                return start;
            }
            if i < halfway {
                start + step * T::from(i).unwrap_or_else(T::nan)
            } else {
                end - step * T::from(steps - 1 - i).unwrap_or_else(T::nan)
            }
        }));
        Ok(Tensor::from_array(Array::from_vec_aligned(data, &[steps])))
    }

    /// The `n x m` matrix with ones on the diagonal (`torch.eye(n, m)`).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert_eq!(Tensor::<f32>::eye_nm(2, 3).to_vec(), vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn eye_nm(n: usize, m: usize) -> Tensor<T> {
        or_panic(Tensor::try_eye_nm(n, m))
    }

    /// [`Tensor::eye_nm`] returning an error when `n × m` elements cannot be held.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert_eq!(Tensor::<f32>::try_eye_nm(1, 2).unwrap().to_vec(), vec![1.0, 0.0]);
    /// assert!(Tensor::<f32>::try_eye_nm(1 << 40, 1 << 40).is_err());
    /// ```
    pub fn try_eye_nm(n: usize, m: usize) -> Result<Tensor<T>> {
        let count = check_numel("eye_nm", &[n, m])?;
        let out = filled("eye_nm", &[n, m], count, T::zero())?;
        if n.min(m) > 0 {
            crate::array::apply_inplace_scalar(
                &out.with_layout(crate::array::Layout {
                    shape: smallvec::smallvec![n.min(m)],
                    strides: smallvec::smallvec![m + 1],
                    offset: 0,
                }),
                |_| T::one(),
            );
        }
        Ok(Tensor::from_array(out))
    }

    /// Samples from N(`mean`, `std`²) (`torch.normal(mean, std, size)`), from the seeded
    /// generator.
    ///
    /// ```
    /// use tapegrad::{manual_seed, Tensor};
    /// manual_seed(1);
    /// let x = Tensor::<f64>::normal(5.0, 0.0, &[3]);
    /// assert_eq!(x.to_vec(), vec![5.0; 3]);
    /// ```
    #[track_caller]
    pub fn normal(mean: T, std: T, shape: &[usize]) -> Tensor<T> {
        or_panic(Tensor::try_normal(mean, std, shape))
    }

    /// [`Tensor::normal`] returning an error for a negative or non-finite `std`.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert!(Tensor::<f32>::try_normal(0.0, -1.0, &[2]).is_err());
    /// assert_eq!(Tensor::<f32>::try_normal(0.0, 1.0, &[2]).unwrap().shape(), &[2]);
    /// ```
    pub fn try_normal(mean: T, std: T, shape: &[usize]) -> Result<Tensor<T>> {
        if !(std >= T::zero() && std.is_finite()) {
            return Err(Error::new(
                ErrorKind::Value,
                "normal",
                format!("std must be finite and >= 0, got {std:?}"),
            ));
        }
        check_numel("normal", shape)?;
        Ok(&Tensor::randn(shape) * std + mean)
    }

    /// 1 with the probability each element gives, else 0 (`torch.bernoulli(p)`), from the
    /// seeded generator. An error for a probability outside [0, 1].
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let p: Tensor = Tensor::from_vec(vec![0.0, 1.0], &[2]);
    /// assert_eq!(p.bernoulli().to_vec(), vec![0.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn bernoulli(&self) -> Tensor<T> {
        or_panic(self.try_bernoulli())
    }

    /// [`Tensor::bernoulli`] returning an error for a probability outside [0, 1].
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert!(Tensor::<f64>::from_vec(vec![0.5, 1.5], &[2]).try_bernoulli().is_err());
    /// ```
    pub fn try_bernoulli(&self) -> Result<Tensor<T>> {
        let p = self.to_vec();
        if let Some(bad) = p.iter().find(|&&v| !(v >= T::zero() && v <= T::one())) {
            return Err(Error::new(
                ErrorKind::Value,
                "bernoulli",
                format!(
                    "probabilities must be in [0, 1], got {bad:?} (shape {:?})",
                    self.shape()
                ),
            ));
        }
        let data = with_rng(|rng| {
            p.iter()
                .map(|&v| {
                    let u: f64 = rng.random();
                    if u < v.to_f64().unwrap_or(0.0) {
                        T::one()
                    } else {
                        T::zero()
                    }
                })
                .collect()
        });
        Ok(Tensor::from_array(Array::from_vec_aligned(
            data,
            self.shape(),
        )))
    }
}

impl<T: Element> Tensor<T> {
    /// A tensor of `value` with this tensor's shape (`torch.full_like`).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::zeros(&[2]);
    /// assert_eq!(Tensor::full_like(&x, 7.0).to_vec(), vec![7.0, 7.0]);
    /// ```
    pub fn full_like(like: &Tensor<T>, value: T) -> Tensor<T> {
        Tensor::full(like.shape(), value)
    }

    /// A tensor of `shape` copying `data` (`torch.tensor(data).reshape(shape)`).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2]);
    /// assert_eq!(x.shape(), &[2, 2]);
    /// assert!(Tensor::try_from_slice(&[1.0f32], &[2]).is_err());
    /// ```
    #[track_caller]
    pub fn from_slice(data: &[T], shape: &[usize]) -> Tensor<T> {
        or_panic(Tensor::try_from_slice(data, shape))
    }

    /// [`Tensor::from_slice`] returning an error when the length does not fit the shape.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert!(Tensor::try_from_slice(&[1i64, 2, 3], &[2, 2]).is_err());
    /// ```
    pub fn try_from_slice(data: &[T], shape: &[usize]) -> Result<Tensor<T>> {
        let count = check_numel("from_slice", shape)?;
        if count != data.len() {
            return Err(Error::shape(
                "from_slice",
                format!(
                    "{} values cannot fill shape {shape:?} ({count} elements)",
                    data.len()
                ),
            ));
        }
        Tensor::try_from_vec(data.to_vec(), shape)
    }

    /// The rows of a 2-D tensor (`x.tolist()` for a matrix).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x = Tensor::from_slice(&[1i64, 2, 3, 4], &[2, 2]);
    /// assert_eq!(x.to_vec2(), vec![vec![1, 2], vec![3, 4]]);
    /// ```
    #[track_caller]
    pub fn to_vec2(&self) -> Vec<Vec<T>> {
        or_panic(self.try_to_vec2())
    }

    /// [`Tensor::to_vec2`] returning an error unless the tensor is 2-D.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert!(Tensor::<f32>::zeros(&[3]).try_to_vec2().is_err());
    /// ```
    pub fn try_to_vec2(&self) -> Result<Vec<Vec<T>>> {
        let [_, cols] = *self.shape() else {
            return Err(Error::shape(
                "to_vec2",
                format!("expected a 2-D tensor, got shape {:?}", self.shape()),
            ));
        };
        let values = self.to_vec();
        Ok(if cols == 0 {
            vec![Vec::new(); self.shape()[0]]
        } else {
            values.chunks(cols).map(<[T]>::to_vec).collect()
        })
    }

    /// The value of a one-element tensor (`x.item()`; the same as [`Tensor::item`]).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert_eq!(Tensor::scalar(3i64).to_scalar(), 3);
    /// ```
    #[track_caller]
    pub fn to_scalar(&self) -> T {
        self.item()
    }

    /// [`Tensor::to_scalar`] returning an error unless the tensor has one element.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert!(Tensor::<f32>::zeros(&[2]).try_to_scalar().is_err());
    /// ```
    pub fn try_to_scalar(&self) -> Result<T> {
        self.try_item()
    }
}

impl<T: Element> From<Vec<T>> for Tensor<T> {
    /// A 1-D tensor of the values (`torch.tensor(list)`).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x: Tensor<i64> = vec![1, 2, 3].into();
    /// assert_eq!(x.shape(), &[3]);
    /// ```
    fn from(data: Vec<T>) -> Self {
        let n = data.len();
        Tensor::from_array(Array::from_vec_aligned(data, &[n]))
    }
}

impl Tensor<i64> {
    /// Integers drawn uniformly from `low..high` (`torch.randint`), from the seeded
    /// generator. An error if `low >= high`.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x = Tensor::randint(0, 10, &[100]);
    /// assert!(x.to_vec().iter().all(|v| (0..10).contains(v)));
    /// ```
    #[track_caller]
    pub fn randint(low: i64, high: i64, shape: &[usize]) -> Tensor<i64> {
        or_panic(Tensor::try_randint(low, high, shape))
    }

    /// [`Tensor::randint`] returning an error for an empty range or a shape too large.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert!(Tensor::try_randint(5, 5, &[1]).is_err());
    /// assert_eq!(Tensor::try_randint(-3, 3, &[4]).unwrap().shape(), &[4]);
    /// ```
    pub fn try_randint(low: i64, high: i64, shape: &[usize]) -> Result<Tensor<i64>> {
        if low >= high {
            return Err(Error::new(
                ErrorKind::Value,
                "randint",
                format!("low {low} must be less than high {high}"),
            ));
        }
        let count = check_numel("randint", shape)?;
        let mut data = reserve("randint", shape, count)?;
        // Sampled on u64 (rand's portable integer sampling), so every platform agrees.
        let span = high.abs_diff(low);
        with_rng(|rng| {
            data.extend((0..count).map(|_| low.wrapping_add(rng.random_range(0..span) as i64)));
        });
        Ok(Tensor::from_array(Array::from_vec_aligned(data, shape)))
    }

    /// A random permutation of `0..n` (`torch.randperm`), from the seeded generator.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let mut p = Tensor::randperm(5).to_vec();
    /// p.sort();
    /// assert_eq!(p, vec![0, 1, 2, 3, 4]);
    /// ```
    #[track_caller]
    pub fn randperm(n: usize) -> Tensor<i64> {
        or_panic(Tensor::try_randperm(n))
    }

    /// [`Tensor::randperm`] returning an error when `n` elements cannot be held.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert_eq!(Tensor::try_randperm(3).unwrap().numel(), 3);
    /// assert!(Tensor::try_randperm(usize::MAX).is_err());
    /// ```
    pub fn try_randperm(n: usize) -> Result<Tensor<i64>> {
        let count = check_numel("randperm", &[n])?;
        let mut data = reserve("randperm", &[n], count)?;
        data.extend(0..n as i64);
        // Fisher-Yates, drawing each position on u64 so every platform agrees.
        with_rng(|rng| {
            for i in (1..n).rev() {
                let j = rng.random_range(0..=i as u64) as usize;
                data.swap(i, j);
            }
        });
        Ok(Tensor::from_array(Array::from_vec_aligned(data, &[n])))
    }
}
