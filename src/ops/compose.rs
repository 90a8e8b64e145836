//! Ops made of other ops — `mm`'s checks, `matmul`'s vector forms, `reshape` with an
//! inferred dim, `unsqueeze`, `squeeze_dim` — written once over [`Value`], for eager
//! tensors and static-graph nodes alike.

use super::{Aux, Cmp, DivCount, MatMul, MeanDim, Mul, Predicate, Sub, SumDim, Value, View, Where};
use crate::dim::{resolve_dim, resolve_insert_dim, resolve_shape, Dim, IndexItem, ShapeArg};
use crate::element::{Element, Float};
use crate::error::{Error, Result};
use crate::shape::{check_numel, shape_of};

/// The same elements in `shape` (one `-1` inferred): a view when possible.
pub(crate) fn reshape<T: Element, V: Value<T>, S: ShapeArg + ?Sized>(
    x: &V,
    shape: &S,
) -> Result<V> {
    let shape = resolve_shape("reshape", shape, x.dims())?;
    reshape_to(x, &shape)
}

/// `reshape` to a shape already resolved.
pub(crate) fn reshape_to<T: Element, V: Value<T>>(x: &V, shape: &[usize]) -> Result<V> {
    if shape == x.dims() {
        return Ok(x.clone());
    }
    x.try_view_op(View::Reshape(shape_of(shape)))
}

pub(crate) fn broadcast_to<T: Element, V: Value<T>>(x: &V, shape: &[usize]) -> Result<V> {
    if shape == x.dims() {
        return Ok(x.clone());
    }
    // A shape from the user: its element count must fit (the chain rules only expand to
    // shapes that tensors already have).
    check_numel("broadcast_to", shape)?;
    x.try_view_op(View::Expand(shape_of(shape)))
}

pub(crate) fn transpose<T: Element, V: Value<T>>(x: &V, d0: impl Dim, d1: impl Dim) -> Result<V> {
    let d0 = resolve_dim("transpose", d0, x.dims())?;
    let d1 = resolve_dim("transpose", d1, x.dims())?;
    x.try_view_op(View::Transpose(d0, d1))
}

/// The transpose of a 2-D value.
pub(crate) fn t<T: Element, V: Value<T>>(x: &V) -> Result<V> {
    if x.dims().len() != 2 {
        return Err(Error::shape(
            "t",
            format!(
                "expected a 2-D tensor, got shape {:?} (use transpose(d0, d1))",
                x.dims()
            ),
        ));
    }
    x.try_view_op(View::Transpose(0, 1))
}

pub(crate) fn unsqueeze<T: Element, V: Value<T>>(x: &V, dim: impl Dim) -> Result<V> {
    let dim = resolve_insert_dim("unsqueeze", dim, x.dims())?;
    let mut shape = shape_of(x.dims());
    shape.insert(dim, 1);
    reshape_to(x, &shape)
}

pub(crate) fn squeeze_dim<T: Element, V: Value<T>>(x: &V, dim: impl Dim) -> Result<V> {
    let dim = resolve_dim("squeeze_dim", dim, x.dims())?;
    if x.dims()[dim] != 1 {
        // PyTorch's leniency: squeezing a dim that is not 1 leaves the value as it is.
        return Ok(x.clone());
    }
    let mut shape = shape_of(x.dims());
    shape.remove(dim);
    reshape_to(x, &shape)
}

/// `torch.mm`: both operands 2-D, errors named `mm`.
pub(crate) fn mm<T: Float, V: Value<T>>(a: &V, b: &V) -> Result<V> {
    let (sa, sb) = (a.dims(), b.dims());
    if sa.len() != 2 || sb.len() != 2 {
        return Err(Error::shape(
            "mm",
            format!("expected 2-D tensors, got {sa:?} and {sb:?}"),
        ));
    }
    if sa[1] != sb[0] {
        return Err(Error::shape(
            "mm",
            format!(
                "cannot multiply {sa:?} by {sb:?}: inner dimensions {} and {} differ",
                sa[1], sb[0]
            ),
        ));
    }
    V::try_apply(MatMul.into(), &[a, b])
}

/// `torch.matmul`: a 1-D left operand is a row vector and a 1-D right operand a column
/// vector, whose added dim is removed from the result; more dims are broadcast batches.
pub(crate) fn matmul<T: Float, V: Value<T>>(a: &V, b: &V) -> Result<V> {
    let (sa, sb) = (shape_of(a.dims()), shape_of(b.dims()));
    if sa.is_empty() || sb.is_empty() {
        return Err(Error::shape(
            "matmul",
            format!("both arguments need at least 1 dimension, got {sa:?} and {sb:?}"),
        ));
    }
    let (ka, kb) = (
        sa[sa.len() - 1],
        if sb.len() == 1 {
            sb[0]
        } else {
            sb[sb.len() - 2]
        },
    );
    if ka != kb {
        return Err(Error::shape(
            "matmul",
            format!("cannot multiply {sa:?} by {sb:?}: inner dimensions {ka} and {kb} differ"),
        ));
    }
    let lhs = if sa.len() == 1 {
        reshape_to(a, &[1, sa[0]])?
    } else {
        a.clone()
    };
    let rhs = if sb.len() == 1 {
        reshape_to(b, &[sb[0], 1])?
    } else {
        b.clone()
    };
    let out = V::try_apply(MatMul.into(), &[&lhs, &rhs])?;
    if sa.len() > 1 && sb.len() > 1 {
        return Ok(out);
    }
    let mut shape = shape_of(out.dims());
    let nd = shape.len();
    if sb.len() == 1 {
        shape.remove(nd - 1);
    }
    if sa.len() == 1 {
        shape.remove(nd - 2);
    }
    reshape_to(&out, &shape)
}

/// `a` where `test > 0`, else `b` (broadcast): `where(test > 0, a, b)`, differentiable in
/// `a` and `b`, for the piecewise activations.
pub(crate) fn select_positive<T: Float, V: Value<T>>(test: &V, a: &V, b: &V) -> Result<V> {
    let positive = V::try_apply(Predicate::Compare(Cmp::Gt, Some(T::zero())).into(), &[test])?;
    V::try_apply(Where { cond: Aux::Input }.into(), &[a, b, &positive])
}

/// The variance along `dim` with Bessel's correction: `sum((x - mean)²) / (n - 1)`.
pub(crate) fn variance<T: Float, V: Value<T>>(x: &V, dim: usize, keepdim: bool) -> Result<V> {
    let n = x.dims()[dim];
    let mean = V::try_apply(MeanDim { dim, keepdim: true }.into(), &[x])?;
    let centered = V::try_apply(Sub.into(), &[x, &mean])?;
    let squares = V::try_apply(Mul.into(), &[&centered, &centered])?;
    let total = V::try_apply(SumDim { dim, keepdim }.into(), &[&squares])?;
    V::try_apply(
        DivCount {
            count: n,
            correction: 1,
        }
        .into(),
        &[&total],
    )
}

/// The view an `i(..)` index selects: positions remove their dim, ranges narrow it.
pub(crate) fn index<T: Element, V: Value<T>>(x: &V, items: &[IndexItem]) -> Result<V> {
    if items.len() > x.dims().len() {
        return Err(Error::index(
            "i",
            format!(
                "{} index entries for a value of {} dims (shape {:?})",
                items.len(),
                x.dims().len(),
                x.dims()
            ),
        ));
    }
    let mut out = x.clone();
    let mut dim = 0;
    for &item in items {
        let size = out.dims()[dim];
        match item {
            IndexItem::At(index) => {
                out = out.try_view_op(View::Select { dim, index }).map_err(|e| {
                    Error::new(
                        e.kind(),
                        "i",
                        format!("{} (shape {:?})", e.message(), x.dims()),
                    )
                })?;
            }
            IndexItem::Range(start, end) => {
                let end = end.unwrap_or(size);
                if start > end || end > size {
                    return Err(Error::index(
                        "i",
                        format!(
                            "range {start}..{end} does not fit dim {dim} of size {size} (shape {:?})",
                            x.dims()
                        ),
                    ));
                }
                if start != 0 || end != size {
                    out = out.try_view_op(View::Narrow {
                        dim,
                        start,
                        len: end - start,
                    })?;
                }
                dim += 1;
            }
        }
    }
    Ok(out)
}

/// Dims `start..=end` merged into one.
pub(crate) fn flatten<T: Element, V: Value<T>>(x: &V, start: impl Dim, end: impl Dim) -> Result<V> {
    let dims = x.dims();
    if dims.is_empty() {
        // PyTorch flattens a 0-d value to one element.
        return reshape_to(x, &[1]);
    }
    let start = resolve_dim("flatten", start, dims)?;
    let end = resolve_dim("flatten", end, dims)?;
    if start > end {
        return Err(Error::index(
            "flatten",
            format!("start dim {start} comes after end dim {end} (shape {dims:?})"),
        ));
    }
    let mut shape = shape_of(&dims[..start]);
    shape.push(dims[start..=end].iter().product());
    shape.extend_from_slice(&dims[end + 1..]);
    reshape_to(x, &shape)
}

/// Views of `size` along `dim` (the last may be shorter).
pub(crate) fn split<T: Element, V: Value<T>>(
    x: &V,
    op: &'static str,
    size: usize,
    dim: impl Dim,
) -> Result<Vec<V>> {
    let dim = resolve_dim(op, dim, x.dims())?;
    if size == 0 {
        return Err(Error::new(
            crate::ErrorKind::Value,
            op,
            format!("cannot split shape {:?} into pieces of size 0", x.dims()),
        ));
    }
    let len = x.dims()[dim];
    if crate::graph::sizes::is_unknown(len) {
        return Err(Error::shape(
            op,
            format!(
                "cannot split dim {dim} of shape {}: its size is known only at run time \
                 (a graph placeholder's -1)",
                crate::graph::sizes::display_shape(x.dims())
            ),
        ));
    }
    if len == 0 {
        return Ok(vec![x.clone()]);
    }
    (0..len)
        .step_by(size)
        .map(|start| {
            x.try_view_op(View::Narrow {
                dim,
                start,
                len: size.min(len - start),
            })
        })
        .collect()
}

/// `x` tiled `repeats[d]` times along each dim (extra leading repeats add dims).
pub(crate) fn repeat<T: Element, V: Value<T>>(x: &V, repeats: &[usize]) -> Result<V> {
    let dims = x.dims();
    if repeats.len() < dims.len() {
        return Err(Error::shape(
            "repeat",
            format!(
                "{} repeats for {} dims (shape {dims:?}): give at least one per dim",
                repeats.len(),
                dims.len()
            ),
        ));
    }
    let lead = repeats.len() - dims.len();
    // [s0, s1] → [1, s0, 1, s1] → expand [r0, s0, r1, s1] → [r0·s0, r1·s1].
    let mut paired = crate::shape::Shape::new();
    let mut expanded = crate::shape::Shape::new();
    let mut out = crate::shape::Shape::new();
    for (i, &r) in repeats.iter().enumerate() {
        let s = if i < lead { 1 } else { dims[i - lead] };
        paired.extend_from_slice(&[1, s]);
        expanded.extend_from_slice(&[r, s]);
        out.push(r.checked_mul(s).ok_or_else(|| {
            Error::shape(
                "repeat",
                format!("repeating {dims:?} by {repeats:?} overflows"),
            )
        })?);
    }
    check_numel("repeat", &out)?;
    let paired = reshape_to(x, &paired)?;
    let expanded = paired.try_view_op(View::Expand(expanded))?;
    reshape_to(&expanded, &out)
}
