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
        if known == 0 || total % known != 0 {
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
