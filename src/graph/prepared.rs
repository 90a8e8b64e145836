//! Prepared kernels: how a planned [`Session`](super::Session) run computes the common
//! ops without going through their general forward.
//!
//! Planning knows every shape, so an elementwise op between two inputs of one shape, an
//! op with a scalar, and a 2-D product are worked out once: which loop to run and how
//! large the product is. At run time such a step checks only that its inputs are laid
//! out as planned (dense, or a 2-D matrix for a product) and writes into the buffer it
//! kept from the previous run. Anything else — a broadcast, a strided input, an op
//! with no prepared kernel — goes through the op's own forward, as eager tensors do, so
//! the results are the same bits either way.

use crate::array::matmul::{gemm_into, Operand};
use crate::array::{catching_alloc_failure, Array};
use crate::element::Float;
use crate::error::Result;
use crate::ops::{
    Add, AddScalar, Div, DivScalar, MatMul, Mul, MulScalar, Op, ScalarDiv, ScalarSub, Sub,
};
use crate::shape::{numel, shape_of, Shape};

/// The computation of a prepared step.
enum Kernel<T> {
    /// An elementwise op of two dense inputs of the output's shape.
    Zip(fn(&[T], &[T], &mut [T])),
    /// An elementwise op of one dense input and a scalar.
    Scalar(fn(T, &[T], &mut [T]), T),
    /// `[m, k] @ [k, n]`.
    MatMul { m: usize, n: usize, k: usize },
}

/// One planned op with a prepared kernel, and the output buffer it keeps across runs.
pub(super) struct Prepared<T: Float> {
    name: &'static str,
    kernel: Kernel<T>,
    shape: Shape,
    buffer: Option<Array<T>>,
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
            buffer: None,
        })
    }

    /// Runs the kernel on `inputs` into the kept buffer (or a new one), or `None` if an
    /// input is not laid out as the kernel needs: then the caller runs the op's forward.
    /// A new buffer the allocator refuses is an out-of-memory error, as in the forward.
    pub(super) fn run(&mut self, inputs: &[&Array<T>]) -> Option<Result<Array<T>>> {
        let dense = |a: &Array<T>| a.is_contiguous() && a.shape() == self.shape.as_slice();
        let fill: &dyn Fn(&mut [T]) = match (&self.kernel, inputs) {
            (Kernel::Zip(f), [a, b]) if dense(a) && dense(b) => &|out: &mut [T]| {
                let n = out.len();
                a.read_with(b, |da, db| {
                    let (oa, ob) = (a.layout().offset, b.layout().offset);
                    f(&da[oa..oa + n], &db[ob..ob + n], out)
                })
            },
            (Kernel::Scalar(f, c), [a]) if dense(a) => &|out: &mut [T]| {
                let offset = a.layout().offset;
                f(*c, &a.read()[offset..offset + out.len()], out)
            },
            (&Kernel::MatMul { m, n, k }, [a, b]) if a.ndim() == 2 && b.ndim() == 2 => {
                &move |out: &mut [T]| {
                    let (la, lb) = (a.layout(), b.layout());
                    a.read_with(b, |da, db| {
                        let lhs = Operand {
                            data: &da[la.offset..],
                            rs: la.strides[0],
                            cs: la.strides[1],
                        };
                        let rhs = Operand {
                            data: &db[lb.offset..],
                            rs: lb.strides[0],
                            cs: lb.strides[1],
                        };
                        gemm_into(m, n, k, &lhs, &rhs, out)
                    })
                }
            }
            _ => return None,
        };
        if let Some(mut kept) = self.buffer.take()
            && kept.refill(fill)
        {
            return Some(Ok(kept));
        }
        let shape = &self.shape;
        Some(catching_alloc_failure(self.name, || {
            Ok(Array::build(shape, fill))
        }))
    }

    /// Takes back this step's output at the end of a run, to write the next run's into.
    pub(super) fn keep(&mut self, value: Array<T>) {
        if numel(value.shape()) == numel(&self.shape) {
            self.buffer = Some(value);
        }
    }
}
