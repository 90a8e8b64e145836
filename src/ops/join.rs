//! Ops that build a new layout of the elements by copying: `cat`, `flip`, `pad`, and the
//! triangles `tril`/`triu`.

use super::{OpDef, Rule, Saves, Value, View, Written};
use crate::array::index as kernels;
use crate::array::{self, Array};
use crate::element::{Element, Float};
use crate::error::{Error, Result};
use crate::shape::{check_dim, check_numel, shape_of, Shape};
use smallvec::SmallVec;

/// The inputs joined along `dim`, like `torch.cat`: every other dim must agree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cat {
    pub dim: usize,
}

impl<T: Element> OpDef<T> for Cat {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "cat"
    }
    fn saves(&self) -> Saves {
        Saves::NOTHING
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        let first = shapes[0];
        check_dim("cat", self.dim, first)?;
        let mut out = shape_of(first);
        out[self.dim] = 0;
        for (i, s) in shapes.iter().enumerate() {
            let fits = s.len() == first.len()
                && s.iter()
                    .zip(first)
                    .enumerate()
                    .all(|(d, (a, b))| d == self.dim || a == b);
            if !fits {
                return Err(Error::shape(
                    "cat",
                    format!(
                        "tensor {i} has shape {s:?}, which does not match {first:?} outside dim {}",
                        self.dim
                    ),
                ));
            }
            out[self.dim] += s[self.dim];
        }
        check_numel("cat", &out)?;
        Ok(out)
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        let shapes: SmallVec<[&[usize]; 4]> = x.iter().map(|a| a.shape()).collect();
        let shape = OpDef::<T>::output_shape(self, &shapes)?;
        Ok(kernels::cat(x, self.dim, &shape))
    }
    /// Each input's gradient is its window of `g` (a view).
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        let mut start = 0;
        rule.write(rule.shapes.iter().enumerate().map(|(i, s)| {
            let len = s[self.dim];
            let window = View::Narrow {
                dim: self.dim,
                start,
                len,
            };
            start += len;
            rule.need(i).then(|| V::apply(window, &[g]))
        }))
    }
}

/// The input reversed along `dims`, like `torch.flip` (a copy). Its own adjoint.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Flip {
    pub dims: Shape,
}

impl<T: Element> OpDef<T> for Flip {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "flip"
    }
    fn saves(&self) -> Saves {
        Saves::NOTHING
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        for &d in &self.dims {
            check_dim("flip", d, shapes[0])?;
        }
        Ok(shape_of(shapes[0]))
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        OpDef::<T>::output_shape(self, &[x[0].shape()])?;
        Ok(kernels::flip(x[0], &self.dims))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        rule.one(|| V::apply(self.clone(), &[g]))
    }
}

/// The input surrounded by `value`: `pads[d] = (before, after)` elements along dim `d`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pad<T> {
    pub pads: SmallVec<[(usize, usize); 4]>,
    pub value: T,
}

impl<T: Element> OpDef<T> for Pad<T> {
    fn resize(&self, size: &mut dyn FnMut(usize) -> Result<usize>) -> Result<Self> {
        let pads = self
            .pads
            .iter()
            .map(|&(before, after)| Ok((size(before)?, size(after)?)))
            .collect::<Result<_>>()?;
        Ok(Pad {
            pads,
            value: self.value,
        })
    }
    fn name(&self) -> &'static str {
        "pad"
    }
    fn saves(&self) -> Saves {
        Saves::NOTHING
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        let s = shapes[0];
        if self.pads.len() != s.len() {
            return Err(Error::shape(
                "pad",
                format!(
                    "expected one (before, after) pair per dim of {s:?}, got {} pairs",
                    self.pads.len()
                ),
            ));
        }
        let out: Option<Shape> = s
            .iter()
            .zip(&self.pads)
            .map(|(&n, &(b, a))| n.checked_add(b)?.checked_add(a))
            .collect();
        let out =
            out.ok_or_else(|| Error::shape("pad", format!("padding {:?} overflows", self.pads)))?;
        check_numel("pad", &out)?;
        Ok(out)
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        let shape = OpDef::<T>::output_shape(self, &[x[0].shape()])?;
        let out = Array::full(&shape, self.value);
        let mut window = out.clone();
        for (dim, (&(before, _), &len)) in self.pads.iter().zip(x[0].shape()).enumerate() {
            window = View::Narrow {
                dim,
                start: before,
                len,
            }
            .apply(&window)?;
        }
        array::apply_inplace(&window, x[0], |_, v| v);
        Ok(out)
    }
    /// The gradient is the window the input was copied into (a view of `g`).
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        rule.one(|| {
            let mut window = g.clone();
            for (dim, (&(before, _), &len)) in self.pads.iter().zip(rule.shape(0)).enumerate() {
                window = V::apply(
                    View::Narrow {
                        dim,
                        start: before,
                        len,
                    },
                    &[&window],
                );
            }
            window
        })
    }
}

/// The lower (or upper) triangle of the last two dims from diagonal `k` on, the rest 0,
/// like `torch.tril`/`torch.triu`. Linear: its adjoint is itself.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Triangle {
    pub k: i64,
    pub upper: bool,
}

impl<T: Element> OpDef<T> for Triangle {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        if self.upper {
            "triu"
        } else {
            "tril"
        }
    }
    fn saves(&self) -> Saves {
        Saves::NOTHING
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        if shapes[0].len() < 2 {
            return Err(Error::shape(
                OpDef::<T>::name(self),
                format!("expected at least 2 dims, got shape {:?}", shapes[0]),
            ));
        }
        Ok(shape_of(shapes[0]))
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        OpDef::<T>::output_shape(self, &[x[0].shape()])?;
        Ok(kernels::triangle(x[0], self.k, self.upper))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        rule.one(|| V::apply(self.clone(), &[g]))
    }
}
