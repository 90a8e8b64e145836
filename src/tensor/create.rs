//! Making tensors: from data, filled, ranges, identity, and random.

use super::Tensor;
use crate::array::Array;
use crate::element::{convert, Element, Float};
use crate::error::{or_panic, Error, ErrorKind, Result};
use crate::rng::with_rng;
use crate::shape::check_numel;
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
    let mut data = reserve(op, shape, count)?;
    data.resize(count, value);
    Ok(Array::from_vec(data, shape))
}

/// An empty vector with room for `count` elements, or `ErrorKind::OutOfMemory`.
fn reserve<T: Element>(op: &'static str, shape: &[usize], count: usize) -> Result<Vec<T>> {
    let mut data = Vec::new();
    data.try_reserve_exact(count).map_err(|_| {
        Error::new(
            ErrorKind::OutOfMemory,
            op,
            format!(
                "cannot allocate {count} elements ({} bytes) for shape {shape:?}",
                count.saturating_mul(T::DTYPE.size())
            ),
        )
    })?;
    Ok(data)
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
        Ok(Tensor::from_array(Array::from_vec(data, &[n])))
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
        Tensor::from_array(Array::from_vec(data, shape))
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
        Tensor::from_array(Array::from_vec(data, shape))
    }
}
