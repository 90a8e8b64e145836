//! PyTorch's dims: a `dim` argument is a `usize` or a negative integer counting from the
//! end (`sum_dim(-1, false)` reduces the last dim), through the [`Dim`] trait.

use crate::error::{Error, Result};
use crate::shape::{check_numel, numel, Shape};
use smallvec::SmallVec;

/// A dimension index: `usize`, or `i32`/`i64`/`isize` where `-1` is the last dim, like
/// PyTorch's `dim=-1`. An unsuffixed literal (`sum_dim(1, false)`) is an `i32`.
///
/// ```
/// use tapegrad::Tensor;
/// let x: Tensor = Tensor::ones(&[2, 3]);
/// assert_eq!(x.sum_dim(-1, false).shape(), &[2]);
/// assert_eq!(x.sum_dim(1usize, false).shape(), &[2]);
/// assert!(x.try_sum_dim(-3, false).is_err());
/// ```
pub trait Dim: Copy + std::fmt::Debug {
    /// The index as a signed number (saturating: a `usize` beyond `i64::MAX` is out of
    /// range anyway).
    fn signed_index(self) -> i64;
}

impl Dim for usize {
    fn signed_index(self) -> i64 {
        i64::try_from(self).unwrap_or(i64::MAX)
    }
}

macro_rules! signed_dim {
    ($($t:ty),*) => {$(
        impl Dim for $t {
            fn signed_index(self) -> i64 {
                self as i64
            }
        }
    )*};
}
signed_dim!(i32, i64, isize);

/// `dim` as an index into `shape`, counting negative ones from the end; an error naming
/// `op`, the dim and the shape when it is out of range.
pub(crate) fn resolve_dim(op: &'static str, dim: impl Dim, shape: &[usize]) -> Result<usize> {
    wrap(op, dim, shape, shape.len())
}

/// `dim` of a reduction, with PyTorch's leniency for a 0-d value: there `0` and `-1` name
/// the value itself (the caller reduces nothing).
pub(crate) fn resolve_reduce_dim(
    op: &'static str,
    dim: impl Dim,
    shape: &[usize],
) -> Result<usize> {
    wrap(op, dim, shape, shape.len().max(1))
}

/// `dim` as a position at which a new dim can be inserted (`0..=ndim`, or negative from
/// the end: `-1` appends), as `unsqueeze` takes it.
pub(crate) fn resolve_insert_dim(
    op: &'static str,
    dim: impl Dim,
    shape: &[usize],
) -> Result<usize> {
    wrap(op, dim, shape, shape.len() + 1)
}

fn wrap(op: &'static str, dim: impl Dim, shape: &[usize], count: usize) -> Result<usize> {
    let d = dim.signed_index();
    let n = count as i64;
    let index = if d < 0 { d + n } else { d };
    if (0..n).contains(&index) {
        Ok(index as usize)
    } else {
        let range = if count == 0 {
            "it has no dims".to_string()
        } else {
            format!("expected {}..={}", -n, n - 1)
        };
        Err(Error::index(
            op,
            format!("dim {d} is out of range for a tensor of shape {shape:?} ({range})"),
        ))
    }
}

/// A shape argument: `&[usize]` as always, or signed dims where one `-1` is inferred from
/// the element count (`reshape(&[-1, 4])`), as PyTorch's `view(-1, 4)`.
///
/// ```
/// use tapegrad::Tensor;
/// let x: Tensor = Tensor::zeros(&[2, 6]);
/// assert_eq!(x.reshape(&[-1, 4]).shape(), &[3, 4]);
/// assert_eq!(x.reshape(&[12usize]).shape(), &[12]);
/// assert!(x.try_reshape(&[-1, -1]).is_err());
/// ```
pub trait ShapeArg {
    /// The dims as signed numbers.
    fn signed_dims(&self) -> SmallVec<[i64; 4]>;
}

impl<D: Dim> ShapeArg for [D] {
    fn signed_dims(&self) -> SmallVec<[i64; 4]> {
        self.iter().map(|d| d.signed_index()).collect()
    }
}

impl<D: Dim, const N: usize> ShapeArg for [D; N] {
    fn signed_dims(&self) -> SmallVec<[i64; 4]> {
        self.as_slice().signed_dims()
    }
}

impl<D: Dim> ShapeArg for Vec<D> {
    fn signed_dims(&self) -> SmallVec<[i64; 4]> {
        self.as_slice().signed_dims()
    }
}

/// The shape `spec` asks for, for a tensor of shape `from`: a `-1` is inferred so that the
/// element count stays the same. Errors name `op`, the spec and the shape.
pub(crate) fn resolve_shape<S: ShapeArg + ?Sized>(
    op: &'static str,
    spec: &S,
    from: &[usize],
) -> Result<Shape> {
    let dims = spec.signed_dims();
    let mut inferred = None;
    let mut shape = Shape::with_capacity(dims.len());
    for (i, &d) in dims.iter().enumerate() {
        match d {
            -1 if inferred.is_some() => {
                return Err(Error::shape(
                    op,
                    format!("only one dim can be inferred (-1), got {dims:?} for shape {from:?}"),
                ))
            }
            -1 => {
                inferred = Some(i);
                shape.push(1);
            }
            d if d < 0 => {
                return Err(Error::shape(
                    op,
                    format!(
                        "invalid dim {d} in {dims:?} for shape {from:?} (only -1 may be negative)"
                    ),
                ))
            }
            d => shape.push(d as usize),
        }
    }
    let known = check_numel(op, &shape)?;
    if let Some(i) = inferred {
        let total = numel(from);
        if known == 0 || !total.is_multiple_of(known) {
            return Err(Error::shape(
                op,
                format!(
                    "cannot reshape {from:?} ({total} elements) to {dims:?}: no size for the -1 fits"
                ),
            ));
        }
        shape[i] = total / known;
    }
    Ok(shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_dims_count_from_the_end() {
        assert_eq!(resolve_dim("op", -1, &[2, 3]).unwrap(), 1);
        assert_eq!(resolve_dim("op", -2i64, &[2, 3]).unwrap(), 0);
        assert_eq!(resolve_dim("op", 1usize, &[2, 3]).unwrap(), 1);
        assert_eq!(resolve_insert_dim("op", -1, &[2, 3]).unwrap(), 2);
        assert_eq!(resolve_insert_dim("op", 0, &[]).unwrap(), 0);
        assert_eq!(
            resolve_dim("sum_dim", -3, &[2, 3]).unwrap_err().to_string(),
            "sum_dim: dim -3 is out of range for a tensor of shape [2, 3] (expected -2..=1)"
        );
        assert_eq!(
            resolve_dim("sum_dim", usize::MAX, &[2])
                .unwrap_err()
                .to_string(),
            format!(
                "sum_dim: dim {} is out of range for a tensor of shape [2] (expected -1..=0)",
                i64::MAX
            )
        );
    }
}

/// One entry of an [`IndexOp::i`] index: a position (the dim is removed) or a range (kept).
///
/// ```
/// use tapegrad::{IndexItem, TensorIndexItem};
/// assert_eq!(3usize.item(), IndexItem::At(3));
/// assert_eq!((1..4usize).item(), IndexItem::Range(1, Some(4)));
/// assert_eq!((..).item(), IndexItem::Range(0, None));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexItem {
    /// `3`: that element; the dim disappears, like `x[3]`.
    At(usize),
    /// `a..b`, `a..`, `..b`, `..`, `a..=b`: a window of the dim (its end `None` for "to the end").
    Range(usize, Option<usize>),
}

/// What [`IndexOp::i`] takes: a `usize`, a range of `usize`, `..`, or a tuple of them (one
/// per leading dim), like candle's and tch's `i`.
///
/// ```
/// use tapegrad::Tensor;
/// let x: Tensor = Tensor::arange(0.0, 24.0, 1.0).reshape(&[2, 3, 4]);
/// assert_eq!(x.i(1).shape(), &[3, 4]);
/// assert_eq!(x.i((.., 1..3)).shape(), &[2, 2, 4]);
/// assert_eq!(x.i((.., 1..3, 2)).to_vec(), vec![6.0, 10.0, 18.0, 22.0]);
/// assert_eq!(x.i((0, ..=1, 3..)).to_vec(), vec![3.0, 7.0]);
/// ```
pub trait TensorIndex {
    /// The entries, one per leading dim.
    fn items(&self) -> SmallVec<[IndexItem; 4]>;
}

/// One entry of a [`TensorIndex`] tuple: a `usize` or a range of `usize`.
///
/// ```
/// use tapegrad::Tensor;
/// let x: Tensor = Tensor::zeros(&[4, 5]);
/// assert_eq!(x.i((1..=2, ..3)).shape(), &[2, 3]);
/// ```
pub trait TensorIndexItem {
    /// The entry.
    fn item(&self) -> IndexItem;
}

impl TensorIndexItem for usize {
    fn item(&self) -> IndexItem {
        IndexItem::At(*self)
    }
}
impl TensorIndexItem for std::ops::Range<usize> {
    fn item(&self) -> IndexItem {
        IndexItem::Range(self.start, Some(self.end))
    }
}
impl TensorIndexItem for std::ops::RangeFrom<usize> {
    fn item(&self) -> IndexItem {
        IndexItem::Range(self.start, None)
    }
}
impl TensorIndexItem for std::ops::RangeTo<usize> {
    fn item(&self) -> IndexItem {
        IndexItem::Range(0, Some(self.end))
    }
}
impl TensorIndexItem for std::ops::RangeFull {
    fn item(&self) -> IndexItem {
        IndexItem::Range(0, None)
    }
}
impl TensorIndexItem for std::ops::RangeInclusive<usize> {
    fn item(&self) -> IndexItem {
        IndexItem::Range(*self.start(), self.end().checked_add(1))
    }
}
impl TensorIndexItem for std::ops::RangeToInclusive<usize> {
    fn item(&self) -> IndexItem {
        IndexItem::Range(0, self.end.checked_add(1))
    }
}

macro_rules! single_index {
    ($($t:ty),*) => {$(
        impl TensorIndex for $t {
            fn items(&self) -> SmallVec<[IndexItem; 4]> {
                smallvec::smallvec![self.item()]
            }
        }
    )*};
}
single_index!(
    usize,
    std::ops::Range<usize>,
    std::ops::RangeFrom<usize>,
    std::ops::RangeTo<usize>,
    std::ops::RangeFull,
    std::ops::RangeInclusive<usize>,
    std::ops::RangeToInclusive<usize>
);

macro_rules! tuple_index {
    ($($name:ident),+) => {
        impl<$($name: TensorIndexItem),+> TensorIndex for ($($name,)+) {
            #[allow(non_snake_case)]
            fn items(&self) -> SmallVec<[IndexItem; 4]> {
                let ($($name,)+) = self;
                smallvec::smallvec![$($name.item()),+]
            }
        }
    };
}
tuple_index!(A);
tuple_index!(A, B);
tuple_index!(A, B, C);
tuple_index!(A, B, C, D);
tuple_index!(A, B, C, D, E);
tuple_index!(A, B, C, D, E, F);

/// `x.i(index)` as a trait, for code written against candle's `IndexOp` (the method is
/// also inherent on `Tensor` and `graph::Node`, so no import is needed).
///
/// ```
/// use tapegrad::{IndexOp, Tensor};
/// fn first_row<V: IndexOp<usize>>(v: &V) -> V {
///     v.i(0)
/// }
/// let x: Tensor = Tensor::arange(0.0, 4.0, 1.0).reshape(&[2, 2]);
/// assert_eq!(first_row(&x).to_vec(), vec![0.0, 1.0]);
/// ```
pub trait IndexOp<I: TensorIndex>: Sized {
    /// The view `index` selects; panics with the error `try_i` would return.
    fn i(&self, index: I) -> Self;
}

/// The right side of a comparison (`eq`, `lt`, ...): a value of the same kind (broadcast
/// against the left) or a scalar. Made by `From`, so `a.lt(&b)` and `a.lt(0.5)` both work.
///
/// ```
/// use tapegrad::Tensor;
/// let a: Tensor = Tensor::from_vec(vec![1.0, 3.0], &[2]);
/// let b: Tensor = Tensor::from_vec(vec![2.0, 2.0], &[2]);
/// assert_eq!(a.lt(&b).to_vec(), a.lt(2.0).to_vec());
/// ```
#[derive(Debug)]
pub enum Rhs<'a, V, T> {
    /// A tensor or graph node.
    Value(&'a V),
    /// A scalar.
    Scalar(T),
}

impl<'a, T: crate::Element> From<&'a crate::Tensor<T>> for Rhs<'a, crate::Tensor<T>, T> {
    fn from(value: &'a crate::Tensor<T>) -> Self {
        Rhs::Value(value)
    }
}

impl<'a, T: crate::Float> From<&'a crate::graph::Node<T>> for Rhs<'a, crate::graph::Node<T>, T> {
    fn from(value: &'a crate::graph::Node<T>) -> Self {
        Rhs::Value(value)
    }
}

macro_rules! scalar_rhs {
    ($($t:ty),*) => {$(
        impl<V> From<$t> for Rhs<'_, V, $t> {
            fn from(value: $t) -> Self {
                Rhs::Scalar(value)
            }
        }
    )*};
}
scalar_rhs!(f32, f64, i64, bool);
