//! Prepared kernels: how a planned [`Session`](super::Session) run computes the common
//! ops without going through their general forward.
//!
//! Planning knows every shape, so these steps are worked out once: an elementwise op
//! between two inputs of one shape, an op with a scalar (`pow` included), the sum of
//! everything, a 2-D product, and the views a gradient graph is full of (a transpose, an
//! expand). At run time such a step checks only that its inputs are laid out as planned
//! (dense, or any 2-D matrix for a product) and writes into the buffer it kept from the
//! previous run, in the session's value slot. Anything else — a broadcast, a strided
//! input, an op with no prepared kernel — goes through the op's own forward, as eager
//! tensors do. Both paths run the same loops in the same order: the same bits.

use crate::array::matmul::{gemm_into, Operand};
use crate::array::{catching_alloc_failure, split_rows, sum_pieces, Array, Layout};
use crate::element::Float;
use crate::error::Result;
use crate::ops::{
    Add, AddScalar, Div, DivScalar, MatMul, Mul, MulScalar, Op, Pow, ScalarDiv, ScalarSub, Sub,
    Sum, View,
};
use crate::shape::{numel, same, shape_of, Shape};

/// The computation of a prepared step.
#[derive(Clone)]
pub(super) enum Kernel<T> {
    /// An elementwise op of two dense inputs of the output's shape.
    Zip(fn(&[T], &[T], &mut [T])),
    /// An elementwise op of one dense input and a scalar.
    Scalar(fn(T, &[T], &mut [T]), T),
    /// `[m, k] @ [k, n]`.
    MatMul { m: usize, n: usize, k: usize },
    /// The sum of every element of a dense input of this many.
    Sum(usize),
    /// A view (a transpose, an expand) of a dense input of the shape given: its layout,
    /// worked out once for the input at offset 0.
    View(Layout, Shape),
}

impl<T: Float> Kernel<T> {
    /// Computes the step into `out` from its inputs' buffers, each from the input's first
    /// element (with its row and column strides for a product; dense for the rest).
    pub(super) fn apply(&self, inputs: &[Operand<T>], out: &mut [T]) {
        match (self, inputs) {
            // Large ones split across threads as the ops' forwards do (`split_rows`: each
            // piece computed alike, so the same bits for any thread count).
            (&Kernel::Zip(f), [a, b]) => {
                let (sa, sb) = (&a.data[..out.len()], &b.data[..out.len()]);
                split_rows(sa, 1, out, 1, |first, sa, out| {
                    f(sa, &sb[first..first + sa.len()], out)
                })
            }
            (&Kernel::Scalar(f, c), [a]) => {
                split_rows(&a.data[..out.len()], 1, out, 1, |_, src, out| {
                    f(c, src, out)
                })
            }
            (&Kernel::Sum(n), [a]) => out[0] = sum_pieces(&a.data[..n]),
            (&Kernel::MatMul { m, n, k }, [a, b]) => gemm_into(m, n, k, a, b, out),
            _ => unreachable!("a view is not computed, and each kernel has its inputs"),
        }
    }
}

/// One planned op with a prepared kernel. Its output stays in the session's value slot
/// from run to run (see [`Prepared::keeps_output`]), and the next run writes into it.
pub(super) struct Prepared<T: Float> {
    name: &'static str,
    kernel: Kernel<T>,
    shape: Shape,
}

impl<T: Float> Prepared<T> {
    /// The prepared form of `op` applied to inputs of `inputs` shapes, making `shape`;
    /// `None` for an op (or a broadcast) without one.
    pub(super) fn new(op: &Op<T>, inputs: &[&[usize]], shape: &[usize]) -> Option<Self> {
        let same = inputs.iter().all(|s| *s == shape);
        let kernel = match (op, inputs) {
            (Op::Add(_), [_, _]) if same => Kernel::Zip(Add::dense::<T>),
            (Op::Sub(_), [_, _]) if same => Kernel::Zip(Sub::dense::<T>),
            (Op::Mul(_), [_, _]) if same => Kernel::Zip(Mul::dense::<T>),
            (Op::Div(_), [_, _]) if same => Kernel::Zip(Div::dense::<T>),
            (Op::AddScalar(AddScalar(c)), [_]) => Kernel::Scalar(AddScalar::dense, *c),
            (Op::MulScalar(MulScalar(c)), [_]) => Kernel::Scalar(MulScalar::dense, *c),
            (Op::DivScalar(DivScalar(c)), [_]) => Kernel::Scalar(DivScalar::dense, *c),
            (Op::ScalarSub(ScalarSub(c)), [_]) => Kernel::Scalar(ScalarSub::dense, *c),
            (Op::ScalarDiv(ScalarDiv(c)), [_]) => Kernel::Scalar(ScalarDiv::dense, *c),
            (Op::Pow(Pow(e)), [_]) => Kernel::Scalar(Pow::dense, *e),
            (Op::Sum(Sum), &[input]) => Kernel::Sum(numel(input)),
            (Op::View(view @ (View::Transpose(..) | View::Expand(_))), &[input]) => {
                let dense = Layout::contiguous(input);
                let layout = match view {
                    &View::Transpose(d0, d1) => dense.transpose(d0, d1),
                    View::Expand(to) => dense.broadcast_to(to),
                    _ => unreachable!("matched above"),
                };
                Kernel::View(layout, shape_of(input))
            }
            (Op::MatMul(MatMul), &[&[m, k], &[k2, n]])
                if k == k2 && m * n * k > 0 && shape == [m, n] =>
            {
                Kernel::MatMul { m, n, k }
            }
            _ => return None,
        };
        Some(Prepared {
            name: op.name(),
            kernel,
            shape: shape_of(shape),
        })
    }

    /// Whether the output is a buffer of its own, kept for the next run. A view is not:
    /// it shares its input's buffer, which it must not hold between runs.
    pub(super) fn keeps_output(&self) -> bool {
        !matches!(self.kernel, Kernel::View(..))
    }

    pub(super) fn kernel(&self) -> &Kernel<T> {
        &self.kernel
    }

    pub(super) fn name(&self) -> &'static str {
        self.name
    }

    pub(super) fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Runs the kernel on `inputs` into `slot`: into the buffer it holds from the last run
    /// when nothing else holds that, else into a new one. False, with `slot` untouched, if
    /// an input is not laid out as the kernel needs: then the caller runs the op's
    /// forward. A new buffer the allocator refuses is an out-of-memory error, as in the
    /// forward.
    pub(super) fn run(&self, inputs: &[&Array<T>], slot: &mut Option<Array<T>>) -> Result<bool> {
        if let (Kernel::View(layout, input), [a]) = (&self.kernel, inputs) {
            // A view is the dense input's buffer under the planned layout, at its offset.
            if !a.is_contiguous() || !same(a.shape(), input) {
                return Ok(false);
            }
            let mut layout = layout.clone();
            layout.offset = a.layout().offset;
            *slot = Some(a.with_layout(layout));
            return Ok(true);
        }
        let dense = |a: &Array<T>| a.is_contiguous() && same(a.shape(), &self.shape);
        let laid_out = match (&self.kernel, inputs) {
            (Kernel::Zip(_), [a, b]) => dense(a) && dense(b),
            (Kernel::Scalar(..), [a]) => dense(a),
            (&Kernel::Sum(n), [a]) => a.is_contiguous() && a.numel() == n,
            (Kernel::MatMul { .. }, [a, b]) => a.ndim() == 2 && b.ndim() == 2,
            _ => false,
        };
        if !laid_out {
            return Ok(false);
        }
        let fill = |out: &mut [T]| match inputs {
            [a] => {
                let data = a.read();
                self.kernel.apply(&[operand(a, &data)], out)
            }
            [a, b] => a.read_with(b, |da, db| {
                self.kernel.apply(&[operand(a, da), operand(b, db)], out)
            }),
            _ => unreachable!("checked above"),
        };
        write_into(slot, self.name, &self.shape, fill)?;
        Ok(true)
    }
}

/// Writes a step's value of `shape` into `slot` through `fill`: into the buffer the slot
/// kept from the last run when nothing else holds it, else into a new one (an
/// out-of-memory error if the allocator refuses, as in the op's forward).
pub(super) fn write_into<T: Float>(
    slot: &mut Option<Array<T>>,
    name: &'static str,
    shape: &[usize],
    fill: impl Fn(&mut [T]),
) -> Result<()> {
    if let Some(kept) = slot
        && same(kept.shape(), shape)
        && kept.refill(&fill)
    {
        return Ok(());
    }
    *slot = Some(catching_alloc_failure(
        || name,
        || Ok(Array::build(shape, fill)),
    )?);
    Ok(())
}

/// `a` as a kernel operand: its buffer from its first element, with its strides when it
/// is a matrix (only a product reads them).
fn operand<'a, T: Float>(a: &Array<T>, data: &'a [T]) -> Operand<'a, T> {
    let layout = a.layout();
    let (rs, cs) = match layout.strides[..] {
        [rs, cs] => (rs, cs),
        _ => (0, 0),
    };
    Operand {
        data: &data[layout.offset..],
        rs,
        cs,
    }
}
