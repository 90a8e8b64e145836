//! Views: new shapes and strides over the same buffer, no copy (except `contiguous`, and a
//! reshape of a non-contiguous tensor). They work on every element type.

use super::grad::{sum_to, view};
use super::{resize_shape, OpDef, Rule, Saves, Value, Written};
use crate::array::{self, Array, Layout};
use crate::element::{Element, Float};
use crate::error::{Error, Result};
use crate::shape::{check_broadcast_to, check_dim, check_numel, numel, shape_of, Shape};

/// The view ops, one family: each arm of each `match` below is one op.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum View {
    /// Swaps two dims.
    Transpose(usize, usize),
    /// Dim `i` of the result is dim `dims[i]` of the input.
    Permute(Shape),
    /// The same elements in a new shape (same count): a copy first if not contiguous.
    Reshape(Shape),
    /// Repeats size-1 (or missing leading) dims: broadcasting, PyTorch's `expand`.
    Expand(Shape),
    /// A dense row-major copy, or the input itself if it already is one.
    Contiguous,
    /// `len` elements of `dim` from `start` on, like `torch.narrow`.
    Narrow {
        dim: usize,
        start: usize,
        len: usize,
    },
    /// Element `index` of `dim`, which is removed, like `torch.select`.
    Select { dim: usize, index: usize },
}

impl View {
    fn check(&self, s: &[usize]) -> Result<Shape> {
        let name = self.op_name();
        Ok(match self {
            View::Transpose(d0, d1) => {
                check_dim(name, *d0, s)?;
                check_dim(name, *d1, s)?;
                let mut out = shape_of(s);
                out.swap(*d0, *d1);
                out
            }
            View::Permute(dims) => {
                let mut seen: Shape = smallvec::smallvec![0; s.len()];
                let valid = dims.len() == s.len()
                    && dims
                        .iter()
                        .all(|&d| d < s.len() && std::mem::replace(&mut seen[d], 1) == 0);
                if !valid {
                    return Err(Error::shape(
                        name,
                        format!("{dims:?} is not a permutation of the dims of {s:?}"),
                    ));
                }
                dims.iter().map(|&d| s[d]).collect()
            }
            View::Reshape(to) => {
                if check_numel(name, to)? != numel(s) {
                    return Err(Error::shape(
                        name,
                        format!(
                            "cannot reshape {s:?} ({} elements) to {to:?} ({} elements)",
                            numel(s),
                            numel(to)
                        ),
                    ));
                }
                to.clone()
            }
            View::Expand(to) => {
                check_broadcast_to(name, s, to)?;
                to.clone()
            }
            View::Contiguous => shape_of(s),
            &View::Narrow { dim, start, len } => {
                check_dim(name, dim, s)?;
                if start.checked_add(len).is_none_or(|end| end > s[dim]) {
                    return Err(Error::index(
                        name,
                        format!(
                            "start {start} + length {len} exceeds dim {dim} of size {} (shape {s:?})",
                            s[dim]
                        ),
                    ));
                }
                let mut out = shape_of(s);
                out[dim] = len;
                out
            }
            &View::Select { dim, index } => {
                check_dim(name, dim, s)?;
                if index >= s[dim] {
                    return Err(Error::index(
                        name,
                        format!(
                            "index {index} is out of range for dim {dim} of size {} (shape {s:?})",
                            s[dim]
                        ),
                    ));
                }
                let mut out = shape_of(s);
                out.remove(dim);
                out
            }
        })
    }

    fn op_name(&self) -> &'static str {
        match self {
            View::Transpose(..) => "transpose",
            View::Permute(_) => "permute",
            View::Reshape(_) => "reshape",
            View::Expand(_) => "broadcast_to",
            View::Contiguous => "contiguous",
            View::Narrow { .. } => "narrow",
            View::Select { .. } => "select",
        }
    }

    /// The view of `a`, for any element type.
    pub(crate) fn apply<T: Element>(&self, a: &Array<T>) -> Result<Array<T>> {
        let s = a.shape();
        // The views chain rules take most (a matmul's transposes, a sum's expand) are
        // checked without building the output shape `check` returns (the layout below
        // makes its own).
        match self {
            View::Transpose(d0, d1) => {
                check_dim(self.op_name(), *d0, s)?;
                check_dim(self.op_name(), *d1, s)?;
            }
            View::Expand(to) => check_broadcast_to(self.op_name(), s, to)?,
            _ => {
                self.check(s)?;
            }
        }
        Ok(match self {
            View::Transpose(d0, d1) => a.with_layout(a.layout().transpose(*d0, *d1)),
            View::Permute(dims) => a.with_layout(a.layout().permute(dims)),
            View::Reshape(to) => a.reshape(to),
            View::Expand(to) => a.with_layout(a.layout().broadcast_to(to)),
            View::Contiguous => a.contiguous(),
            &View::Narrow { dim, start, len } => {
                let mut layout = a.layout().clone();
                layout.offset += start * layout.strides[dim];
                layout.shape[dim] = len;
                a.with_layout(empty_at_start(layout))
            }
            &View::Select { dim, index } => {
                let mut layout = a.layout().clone();
                layout.offset += index * layout.strides[dim];
                layout.shape.remove(dim);
                layout.strides.remove(dim);
                a.with_layout(empty_at_start(layout))
            }
        })
    }
}

/// An empty window points at the buffer's start: a narrow at the very end of a dim, then a
/// select in it, would otherwise point past the buffer, and kernels slice from the offset.
fn empty_at_start(mut layout: Layout) -> Layout {
    if layout.numel() == 0 {
        layout.offset = 0;
    }
    layout
}

impl<T: Element> OpDef<T> for View {
    fn resize(&self, size: &mut dyn FnMut(usize) -> Result<usize>) -> Result<Self> {
        Ok(match self {
            View::Reshape(shape) => View::Reshape(resize_shape(shape, size)?),
            View::Expand(shape) => View::Expand(resize_shape(shape, size)?),
            &View::Narrow { dim, start, len } => View::Narrow {
                dim,
                start: size(start)?,
                len: size(len)?,
            },
            &View::Select { dim, index } => View::Select {
                dim,
                index: size(index)?,
            },
            View::Transpose(..) | View::Permute(_) | View::Contiguous => self.clone(),
        })
    }
    fn name(&self) -> &'static str {
        self.op_name()
    }
    fn saves(&self) -> Saves {
        Saves::NOTHING
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        self.check(shapes[0])
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        self.apply(x[0])
    }
    /// A view's gradient is the inverse view of the output's gradient.
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        rule.one(|| match self {
            View::Transpose(d0, d1) => view(g, View::Transpose(*d0, *d1)),
            View::Permute(dims) => {
                let mut inverse: Shape = smallvec::smallvec![0; dims.len()];
                for (i, &d) in dims.iter().enumerate() {
                    inverse[d] = i;
                }
                view(g, View::Permute(inverse))
            }
            View::Reshape(_) => view(g, View::Reshape(rule.shape(0).clone())),
            View::Expand(_) => sum_to(g, rule.shape(0)),
            View::Contiguous => g.clone(),
            &View::Narrow { dim, start, .. } => V::apply(
                NarrowGrad {
                    dim,
                    start,
                    size: rule.shape(0)[dim],
                },
                &[g],
            ),
            &View::Select { dim, index } => {
                let mut kept = shape_of(rule.shape(0));
                kept[dim] = 1;
                let g = view(g, View::Reshape(kept));
                let size = rule.shape(0)[dim];
                V::apply(
                    NarrowGrad {
                        dim,
                        start: index,
                        size,
                    },
                    &[&g],
                )
            }
        })
    }
}

/// `narrow`'s gradient: `g` placed at `start` along `dim` in zeros of size `size` there.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NarrowGrad {
    pub dim: usize,
    pub start: usize,
    pub size: usize,
}

impl<T: Element> OpDef<T> for NarrowGrad {
    fn resize(&self, size: &mut dyn FnMut(usize) -> Result<usize>) -> Result<Self> {
        Ok(NarrowGrad {
            dim: self.dim,
            start: size(self.start)?,
            size: size(self.size)?,
        })
    }
    fn name(&self) -> &'static str {
        "narrow_backward"
    }
    fn saves(&self) -> Saves {
        Saves::NOTHING
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        let s = shapes[0];
        check_dim("narrow_backward", self.dim, s)?;
        let mut out = shape_of(s);
        out[self.dim] = self.size;
        // The inverse view must fit, or forward would write out of bounds.
        View::Narrow {
            dim: self.dim,
            start: self.start,
            len: s[self.dim],
        }
        .check(&out)?;
        Ok(out)
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        let shape = OpDef::<T>::output_shape(self, &[x[0].shape()])?;
        let out = Array::full(&shape, T::zero());
        let window = View::Narrow {
            dim: self.dim,
            start: self.start,
            len: x[0].shape()[self.dim],
        }
        .apply(&out)?;
        array::apply_inplace(&window, x[0], |_, g| g);
        Ok(out)
    }
    /// Linear in `g`: its gradient narrows back.
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        let len = rule.shape(0)[self.dim];
        rule.one(|| {
            V::apply(
                View::Narrow {
                    dim: self.dim,
                    start: self.start,
                    len,
                },
                &[g],
            )
        })
    }
}
