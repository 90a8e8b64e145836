//! Shapes, strides, broadcasting and the reductions that undo broadcasting.

use crate::error::{Error, Result};
use smallvec::SmallVec;

/// A shape or a list of strides; up to 4 dims live inline without a heap allocation.
pub type Shape = SmallVec<[usize; 4]>;

/// Number of elements of a tensor of `shape` (1 for a scalar, 0 if any dim is 0). For a
/// shape that a tensor has; a shape from outside goes through [`check_numel`] first.
///
/// ```
/// assert_eq!(tapegrad::shape::numel(&[2, 3, 4]), 24);
/// assert_eq!(tapegrad::shape::numel(&[]), 1);
/// ```
#[inline]
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Whether two lists of sizes (shapes, strides, node ids) are equal, compared inline: `==` on slices calls
/// `memcmp`, some twenty instructions a call for the two or three dims a shape has, and
/// a planned graph run compares a few shapes per step.
#[inline]
pub(crate) fn same(a: &[usize], b: &[usize]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// The most elements a tensor may have: at 8 bytes an element (the widest type), its
/// buffer must fit in `isize::MAX` bytes, as every Rust allocation must.
pub const MAX_NUMEL: usize = isize::MAX as usize / 8;

/// The element count of `shape`, or an error naming `op` if the count (or the span of the
/// row-major strides, which skip zero dims) overflows or passes [`MAX_NUMEL`]. Every shape
/// a tensor is made, reshaped or broadcast to goes through here, so the element counts
/// and strides computed later cannot overflow.
///
/// ```
/// use tapegrad::shape::check_numel;
/// assert_eq!(check_numel("zeros", &[2, 3]).unwrap(), 6);
/// assert!(check_numel("zeros", &[1 << 32, 1 << 32]).is_err());
/// assert!(check_numel("zeros", &[0, 1 << 62, 1 << 62]).is_err());
/// ```
pub fn check_numel(op: &'static str, shape: &[usize]) -> Result<usize> {
    let span = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d.max(1)));
    match span {
        Some(span) if span <= MAX_NUMEL => Ok(numel(shape)),
        _ => Err(Error::shape(
            op,
            format!(
                "shape {shape:?} has more elements than a tensor can hold (at most {MAX_NUMEL})"
            ),
        )),
    }
}

/// Row-major (C order) strides of a contiguous tensor of `shape`.
///
/// ```
/// assert_eq!(tapegrad::shape::contiguous_strides(&[2, 3, 4]).as_slice(), &[12, 4, 1]);
/// ```
#[inline]
pub fn contiguous_strides(shape: &[usize]) -> Shape {
    let mut strides = shape_of(shape);
    let mut step = 1;
    for (stride, &dim) in strides.iter_mut().zip(shape).rev() {
        *stride = step;
        step *= dim.max(1);
    }
    strides
}

/// `dims` as a [`Shape`]. Up to 4 dims (the inline capacity) are copied word by word
/// into the inline buffer, with no call to `memcpy`: shapes are copied for every op, and
/// for one or two dims the call costs more than the copy.
#[inline]
pub(crate) fn shape_of(dims: &[usize]) -> Shape {
    if dims.len() <= 4 {
        let buf: [usize; 4] = std::array::from_fn(|i| dims.get(i).copied().unwrap_or(0));
        Shape::from_buf_and_len(buf, dims.len())
    } else {
        Shape::from_slice(dims)
    }
}

/// The shape two operands broadcast to, by NumPy/PyTorch rules: align the shapes on the
/// right; each pair of dims must be equal or one of them 1.
///
/// ```
/// use tapegrad::shape::broadcast_shapes;
/// assert_eq!(broadcast_shapes("add", &[64, 1], &[2]).unwrap().as_slice(), &[64, 2]);
/// assert!(broadcast_shapes("add", &[2, 3], &[4]).is_err());
/// ```
pub fn broadcast_shapes(op: &'static str, a: &[usize], b: &[usize]) -> Result<Shape> {
    if same(a, b) {
        return Ok(shape_of(a));
    }
    let ndim = a.len().max(b.len());
    let mut out: Shape = smallvec::smallvec![0; ndim];
    // From the right, like PyTorch, so the error names the innermost mismatch.
    for i in (0..ndim).rev() {
        let da = if i < ndim - a.len() {
            1
        } else {
            a[i - (ndim - a.len())]
        };
        let db = if i < ndim - b.len() {
            1
        } else {
            b[i - (ndim - b.len())]
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => {
                return Err(Error::shape(
                    op,
                    format!("cannot broadcast {a:?} with {b:?}: dim {da} does not match dim {db}"),
                ))
            }
        };
    }
    check_numel(op, &out)?;
    Ok(out)
}

/// Checks that `from` broadcasts to exactly `to` (used by in-place ops and `broadcast_to`).
#[inline]
pub(crate) fn check_broadcast_to(op: &'static str, from: &[usize], to: &[usize]) -> Result<()> {
    let ok = from.len() <= to.len()
        && from
            .iter()
            .rev()
            .zip(to.iter().rev())
            .all(|(&f, &t)| f == t || f == 1);
    if ok {
        Ok(())
    } else {
        Err(Error::shape(
            op,
            format!("cannot broadcast {from:?} to {to:?}"),
        ))
    }
}

/// Checks a dimension index against the shape's dims.
pub(crate) fn check_dim(op: &'static str, dim: usize, shape: &[usize]) -> Result<()> {
    crate::dim::resolve_dim(op, dim, shape).map(|_| ())
}

/// The shape after reducing `dim` (kept as 1 with `keepdim`, removed otherwise).
pub(crate) fn reduced_shape(shape: &[usize], dim: usize, keepdim: bool) -> Shape {
    let mut out = shape_of(shape);
    if keepdim {
        out[dim] = 1;
    } else {
        out.remove(dim);
    }
    out
}

/// Output shape of a batched matmul `[..., m, k] x [..., k, n] -> [..., m, n]`.
pub(crate) fn matmul_shape(op: &'static str, a: &[usize], b: &[usize]) -> Result<Shape> {
    if a.len() < 2 || b.len() < 2 {
        return Err(Error::shape(
            op,
            format!("expected at least 2-D operands, got {a:?} and {b:?}"),
        ));
    }
    let (m, k) = (a[a.len() - 2], a[a.len() - 1]);
    let (k2, n) = (b[b.len() - 2], b[b.len() - 1]);
    if k != k2 {
        return Err(Error::shape(
            op,
            format!("cannot multiply {a:?} by {b:?}: inner dimensions {k} and {k2} differ"),
        ));
    }
    if a.len() == 2 && b.len() == 2 {
        // Plain matrices (most products): m·n is the only count to check.
        let out = shape_of(&[m, n]);
        check_numel(op, &out)?;
        return Ok(out);
    }
    let mut out = broadcast_shapes(op, &a[..a.len() - 2], &b[..b.len() - 2])?;
    out.extend_from_slice(&[m, n]);
    check_numel(op, &out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(
            broadcast_shapes("add", &[64, 2], &[2]).unwrap().as_slice(),
            &[64, 2]
        );
        assert_eq!(
            broadcast_shapes("add", &[3, 1, 5], &[4, 1])
                .unwrap()
                .as_slice(),
            &[3, 4, 5]
        );
        assert_eq!(
            broadcast_shapes("add", &[], &[2, 3]).unwrap().as_slice(),
            &[2, 3]
        );
        assert_eq!(
            broadcast_shapes("add", &[0, 3], &[1, 3])
                .unwrap()
                .as_slice(),
            &[0, 3]
        );
        let e = broadcast_shapes("add", &[2, 3], &[4]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "add: cannot broadcast [2, 3] with [4]: dim 3 does not match dim 4"
        );
    }

    #[test]
    fn strides_are_row_major() {
        assert_eq!(contiguous_strides(&[2, 3, 4]).as_slice(), &[12, 4, 1]);
        assert_eq!(contiguous_strides(&[]).as_slice(), &[] as &[usize]);
    }
}
