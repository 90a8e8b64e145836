//! Ops made of other ops — `mm`'s checks, `matmul`'s vector forms, `reshape` with an
//! inferred dim, `unsqueeze`, `squeeze_dim` — written once over [`Value`], for eager
//! tensors and static-graph nodes alike.

use super::{MatMul, Value, View};
use crate::dim::{resolve_dim, resolve_insert_dim, resolve_shape, Dim, ShapeArg};
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
        return Err(Error::shape(
            "squeeze_dim",
            format!(
                "dim {dim} of shape {:?} has size {}, not 1",
                x.dims(),
                x.dims()[dim]
            ),
        ));
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
