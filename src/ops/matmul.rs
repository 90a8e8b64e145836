//! The batched matrix product.

use super::grad::{matrix_transpose, sum_to_owned};
use super::{OpDef, Rule, Saves, Value, Written};
use crate::array::{self, Array};
use crate::element::{Element, Float};
use crate::error::Result;
use crate::shape::{matmul_shape, Shape};

/// `[..., m, k] x [..., k, n] -> [..., m, n]`, batch dims broadcast.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MatMul;

impl<T: Element> OpDef<T> for MatMul {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "matmul"
    }
    fn saves(&self) -> Saves {
        Saves::INPUTS
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        matmul_shape("matmul", shapes[0], shapes[1])
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        array::matmul("matmul", x[0], x[1])
    }
    /// C = A B:  dA = dC Bᵀ,  dB = Aᵀ dC  (summed over broadcast batch dims).
    /// A column-major 2-D B times a 2-D A (a Linear layer's `x.matmul(&w.t())`) gets
    /// dB = (dCᵀ A)ᵀ: the same numbers, computed in B's own layout.
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        let (a, b) = (rule.x(0), rule.x(1));
        rule.two(
            || sum_to_owned(V::matmul_swapped((g, false), (b, true)), rule.shape(0)),
            || {
                if b.is_column_major() && rule.shape(0).len() == 2 {
                    matrix_transpose(&V::matmul_swapped((g, true), (a, false)))
                } else {
                    sum_to_owned(V::matmul_swapped((a, true), (g, false)), rule.shape(1))
                }
            },
        )
    }
}
