//! Ops made of other ops — `mm`'s checks, `matmul`'s vector forms, `reshape`,
//! `unsqueeze`, `squeeze_dim` — written once for every kind of value the [`Op`]
//! vocabulary applies to: eager tensors and static-graph nodes.

use super::op::Op;
use crate::error::{Error, Result};
use crate::shape::{check_dim, shape_of};
use num_traits::Float;

/// A value ops can be applied to, failing with the op's error (`Tensor`, `graph::Node`).
pub(crate) trait Compose<T: Float>: Clone {
    fn dims(&self) -> &[usize];
    fn apply_op(op: Op<T>, inputs: &[&Self]) -> Result<Self>;
}

pub(crate) fn reshape<T: Float, V: Compose<T>>(x: &V, shape: &[usize]) -> Result<V> {
    if shape == x.dims() {
        return Ok(x.clone());
    }
    V::apply_op(Op::Reshape(shape_of(shape)), &[x])
}

pub(crate) fn broadcast_to<T: Float, V: Compose<T>>(x: &V, shape: &[usize]) -> Result<V> {
    if shape == x.dims() {
        return Ok(x.clone());
    }
    V::apply_op(Op::Expand(shape_of(shape)), &[x])
}

/// `torch.mm`: both operands 2-D, errors named `mm`.
pub(crate) fn mm<T: Float, V: Compose<T>>(a: &V, b: &V) -> Result<V> {
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
    V::apply_op(Op::MatMul, &[a, b])
}

/// `torch.matmul`: a 1-D left operand is a row vector and a 1-D right operand a column
/// vector, whose added dim is removed from the result; more dims are broadcast batches.
pub(crate) fn matmul<T: Float, V: Compose<T>>(a: &V, b: &V) -> Result<V> {
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
        reshape(a, &[1, sa[0]])?
    } else {
        a.clone()
    };
    let rhs = if sb.len() == 1 {
        reshape(b, &[sb[0], 1])?
    } else {
        b.clone()
    };
    let out = V::apply_op(Op::MatMul, &[&lhs, &rhs])?;
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
    reshape(&out, &shape)
}

pub(crate) fn unsqueeze<T: Float, V: Compose<T>>(x: &V, dim: usize) -> Result<V> {
    let mut shape = shape_of(x.dims());
    if dim > shape.len() {
        return Err(Error::index(
            "unsqueeze",
            format!(
                "dim {dim} is out of range for a tensor of shape {shape:?} (0..={})",
                shape.len()
            ),
        ));
    }
    shape.insert(dim, 1);
    reshape(x, &shape)
}

pub(crate) fn squeeze_dim<T: Float, V: Compose<T>>(x: &V, dim: usize) -> Result<V> {
    check_dim("squeeze_dim", dim, x.dims())?;
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
    reshape(x, &shape)
}
