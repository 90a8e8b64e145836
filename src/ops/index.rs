//! Ops that take indices: `index_select`, `gather`, `scatter_add` (and their adjoints), and
//! the permutation `sort` applies. The indices are an [`Aux`] operand (see `select.rs`).

use super::select::Aux;
use super::{resize_shape, OpDef, Rule, Saves, Value, Written};
use crate::array::index as kernels;
use crate::array::select::{contiguous, dense, map_to};
use crate::array::Array;
use crate::element::{Element, Float};
use crate::error::{Error, Result};
use crate::shape::{check_dim, shape_of, Shape};
use smallvec::smallvec;

/// The indices, checked against `size` (the length of the indexed dim) if `check` (else the
/// kernel checks them), as a contiguous array (the given one itself when it already is).
fn indices_of<T: Float>(
    op: &'static str,
    index: &Aux<i64>,
    x: &[&Array<T>],
    at: usize,
    size: usize,
    dim: usize,
    check: bool,
) -> Result<Array<i64>> {
    let indices = match index {
        Aux::Given(a) => contiguous(a),
        Aux::Input => {
            let raw = x[at].to_vec();
            let mut values = Vec::with_capacity(raw.len());
            for v in raw {
                let i = v
                    .to_i64()
                    .filter(|&i| T::from(i) == Some(v))
                    .ok_or_else(|| {
                        Error::index(op, format!("index {v:?} is not a whole number"))
                    })?;
                values.push(i);
            }
            Array::from_vec(values, x[at].shape())
        }
    };
    if check {
        kernels::check_indices(op, &dense(&indices), size, dim)?;
    }
    Ok(indices)
}

/// `x` at `index` (1-D) along `dim`, like `torch.index_select`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IndexSelect {
    pub dim: usize,
    pub index: Aux<i64>,
}

/// The length of a 1-D (or 0-D) index, or the error naming `op`.
fn index_len(op: &'static str, index: &[usize]) -> Result<usize> {
    match index {
        [] => Ok(1),
        [n] => Ok(*n),
        _ => Err(Error::shape(
            op,
            format!("the index must be 1-D, got shape {index:?}"),
        )),
    }
}

impl<T: Element> OpDef<T> for IndexSelect {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "index_select"
    }
    fn saves(&self) -> Saves {
        self.index.saves()
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        check_dim("index_select", self.dim, shapes[0])?;
        let mut out = shape_of(shapes[0]);
        out[self.dim] = index_len("index_select", self.index.shape(shapes, 1))?;
        Ok(out)
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        OpDef::<T>::output_shape(
            self,
            &[x[0].shape(), x.get(1).map_or(&[][..], |a| a.shape())],
        )?;
        let size = x[0].shape()[self.dim];
        let indices = indices_of("index_select", &self.index, x, 1, size, self.dim, true)?;
        let out = kernels::index_select(x[0], self.dim, &dense(&indices));
        Ok(out)
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        let op = IndexAdd {
            dim: self.dim,
            index: self.index.clone(),
            size: rule.shape(0)[self.dim],
        };
        self.index.grads(rule, || self.index.apply(op, g, rule, 1))
    }
}

/// `index_select`'s adjoint: `g` added into zeros of `size` along `dim` at `index`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IndexAdd {
    pub dim: usize,
    pub index: Aux<i64>,
    pub size: usize,
}

impl<T: Element> OpDef<T> for IndexAdd {
    fn resize(&self, size: &mut dyn FnMut(usize) -> Result<usize>) -> Result<Self> {
        Ok(IndexAdd {
            size: size(self.size)?,
            ..self.clone()
        })
    }
    fn name(&self) -> &'static str {
        "index_select_backward"
    }
    fn saves(&self) -> Saves {
        self.index.saves()
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        check_dim("index_select_backward", self.dim, shapes[0])?;
        let mut out = shape_of(shapes[0]);
        out[self.dim] = self.size;
        Ok(out)
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        OpDef::<T>::output_shape(self, &[x[0].shape()])?;
        let indices = indices_of(
            "index_select_backward",
            &self.index,
            x,
            1,
            self.size,
            self.dim,
            true,
        )?;
        let out = kernels::index_add(x[0], self.dim, &dense(&indices), self.size);
        Ok(out)
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        let op = IndexSelect {
            dim: self.dim,
            index: self.index.clone(),
        };
        self.index.grads(rule, || self.index.apply(op, g, rule, 1))
    }
}

/// `torch.gather(x, dim, index)`: the output has the index's shape.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Gather {
    pub dim: usize,
    pub index: Aux<i64>,
}

impl<T: Element> OpDef<T> for Gather {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "gather"
    }
    fn saves(&self) -> Saves {
        self.index.saves()
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        check_dim("gather", self.dim, shapes[0])?;
        let index = self.index.shape(shapes, 1);
        kernels::check_gather_shapes("gather", shapes[0], index, self.dim, None)?;
        Ok(shape_of(index))
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        let shapes: Vec<&[usize]> = x.iter().map(|a| a.shape()).collect();
        OpDef::<T>::output_shape(self, &shapes)?;
        let size = x[0].shape()[self.dim];
        let indices = indices_of("gather", &self.index, x, 1, size, self.dim, false)?;
        kernels::gather("gather", x[0], self.dim, &dense(&indices), indices.shape())
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        let op = Scatter {
            dim: self.dim,
            index: self.index.clone(),
            shape: rule.shape(0).clone(),
        };
        self.index.grads(rule, || self.index.apply(op, g, rule, 1))
    }
}

/// Zeros of `shape` with `src` (of the index's shape) added where `index` points along
/// `dim`: `scatter_add` onto zeros, and `gather`'s adjoint.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scatter {
    pub dim: usize,
    pub index: Aux<i64>,
    pub shape: Shape,
}

impl<T: Element> OpDef<T> for Scatter {
    fn resize(&self, size: &mut dyn FnMut(usize) -> Result<usize>) -> Result<Self> {
        Ok(Scatter {
            shape: resize_shape(&self.shape, size)?,
            ..self.clone()
        })
    }
    fn name(&self) -> &'static str {
        "scatter_add"
    }
    fn saves(&self) -> Saves {
        self.index.saves()
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        check_dim("scatter_add", self.dim, &self.shape)?;
        let index = self.index.shape(shapes, 1);
        if index != shapes[0] {
            return Err(Error::shape(
                "scatter_add",
                format!(
                    "src of shape {:?} does not match the index's shape {index:?}",
                    shapes[0]
                ),
            ));
        }
        kernels::check_gather_shapes("scatter_add", &self.shape, index, self.dim, None)?;
        Ok(self.shape.clone())
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        let shapes: Vec<&[usize]> = x.iter().map(|a| a.shape()).collect();
        OpDef::<T>::output_shape(self, &shapes)?;
        let size = self.shape[self.dim];
        let indices = indices_of("scatter_add", &self.index, x, 1, size, self.dim, true)?;
        let out = kernels::scatter_add(
            x[0],
            self.dim,
            &dense(&indices),
            indices.shape(),
            &self.shape,
        );
        Ok(out)
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        let op = Gather {
            dim: self.dim,
            index: self.index.clone(),
        };
        self.index.grads(rule, || self.index.apply(op, g, rule, 1))
    }
}

/// The permutation sorting each lane along `dim`, as `T` values (the static graph's
/// `argsort`; eager tensors get `Tensor<i64>` from the kernel directly). No gradient.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Argsort {
    pub dim: usize,
    pub descending: bool,
}

impl<T: Element> OpDef<T> for Argsort {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "argsort"
    }
    fn saves(&self) -> Saves {
        Saves::NOTHING
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        check_dim("argsort", self.dim, shapes[0])?;
        Ok(shape_of(shapes[0]))
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        OpDef::<T>::output_shape(self, &[x[0].shape()])?;
        let order = crate::array::scan::argsort(x[0], self.dim, self.descending);
        Ok(map_to(&order, |i| T::from(i).unwrap_or_else(T::nan)))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, _: &V) -> Written
    where
        T: Float,
    {
        rule.write([None])
    }
}

/// The elements of `x` where `mask` (input 1, of `x`'s shape) is nonzero, in row-major
/// order: the static graph's `masked_select`, whose length depends on the data. `len` is
/// that length as the graph writes it (see `graph::sizes`); the kernel takes the data's.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MaskedSelect {
    pub len: usize,
}

/// Checks that a mask has its values' shape.
fn check_mask(op: &'static str, values: &[usize], mask: &[usize]) -> Result<()> {
    if values == mask {
        Ok(())
    } else {
        Err(Error::shape(
            op,
            format!("the mask has shape {mask:?}, but the values have shape {values:?}"),
        ))
    }
}

impl<T: Element> OpDef<T> for MaskedSelect {
    // `len` is decided by the data when the op runs, not by the run's sizes.
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "masked_select"
    }
    fn saves(&self) -> Saves {
        Saves::INPUTS
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        check_mask("masked_select", shapes[0], shapes[1])?;
        Ok(smallvec![self.len])
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        check_mask("masked_select", x[0].shape(), x[1].shape())?;
        let (values, mask) = (contiguous(x[0]), contiguous(x[1]));
        let picked: Vec<T> = dense(&values)
            .iter()
            .zip(dense(&mask).iter())
            .filter(|&(_, &m)| m != T::zero())
            .map(|(&v, _)| v)
            .collect();
        let len = picked.len();
        Ok(Array::from_vec(picked, &[len]))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        rule.write([
            rule.need(0)
                .then(|| V::apply(MaskedScatter, &[g, rule.x(1)])),
            None,
        ])
    }
}

/// `masked_select`'s adjoint: zeros of the mask's (input 1's) shape, with the values of
/// input 0 in row-major order where the mask is nonzero.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MaskedScatter;

impl<T: Element> OpDef<T> for MaskedScatter {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "masked_select_backward"
    }
    fn saves(&self) -> Saves {
        Saves::INPUTS
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        if shapes[0].len() != 1 {
            return Err(Error::shape(
                "masked_select_backward",
                format!("the values have shape {:?}, not one dim", shapes[0]),
            ));
        }
        Ok(shape_of(shapes[1]))
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        OpDef::<T>::output_shape(self, &[x[0].shape(), x[1].shape()])?;
        let (values, mask) = (contiguous(x[0]), contiguous(x[1]));
        let (values, mask) = (dense(&values), dense(&mask));
        let selected = mask.iter().filter(|&&m| m != T::zero()).count();
        if selected != values.len() {
            return Err(Error::shape(
                "masked_select_backward",
                format!("{} values for a mask that selects {selected}", values.len()),
            ));
        }
        let mut next = values.iter();
        let out = mask
            .iter()
            .map(|&m| match m != T::zero() {
                true => *next.next().expect("counted above"),
                false => T::zero(),
            })
            .collect();
        Ok(Array::from_vec(out, x[1].shape()))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        // The selected entries of g, as many as the values: the same data-dependent length.
        let len = rule.shape(0)[0];
        rule.write([
            rule.need(0)
                .then(|| V::apply(MaskedSelect { len }, &[g, rule.x(1)])),
            None,
        ])
    }
}
