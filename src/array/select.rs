//! Kernels for comparisons and selects between element types (a `bool` mask, a `bool`
//! result), and the row-major access the indexing (`index.rs`) and scan (`scan.rs`) kernels
//! share.
//!
//! Those work on the row-major contents of their inputs (the buffer itself when it is
//! contiguous, a copy otherwise) split as `[outer, len, inner]` around the dim they act on:
//! lane `(o, i)` of that dim is the elements `o * len * inner + k * inner + i`, `k < len`.

use super::layout::{for_each_row, row};
use super::Array;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::shape::{broadcast_shapes, numel};
use std::sync::RwLockReadGuard;

/// (outer, len, inner) of a row-major `shape` around `dim`.
pub(crate) fn lanes(shape: &[usize], dim: usize) -> (usize, usize, usize) {
    (numel(&shape[..dim]), shape[dim], numel(&shape[dim + 1..]))
}

/// A read-locked, row-major view of an array's contents.
pub(crate) struct Dense<'a, T: Element> {
    guard: RwLockReadGuard<'a, super::Buffer<T>>,
    start: usize,
    len: usize,
}

impl<T: Element> std::ops::Deref for Dense<'_, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.guard[self.start..self.start + self.len]
    }
}

/// `a` if it is contiguous, else a contiguous copy: hold it while reading it with [`dense`].
pub(crate) fn contiguous<T: Element>(a: &Array<T>) -> Array<T> {
    a.contiguous()
}

/// The contents of a contiguous array, read-locked.
pub(crate) fn dense<T: Element>(c: &Array<T>) -> Dense<'_, T> {
    debug_assert!(c.is_contiguous());
    Dense {
        guard: c.read(),
        start: c.layout().offset,
        len: c.numel(),
    }
}

/// Reads two contiguous arrays of any element types together, taking the two locks in the
/// crate's global order (see `Array::read_with`); one storage shared by both is copied.
pub(crate) fn dense2<A: Element, B: Element, R>(
    a: &Array<A>,
    b: &Array<B>,
    f: impl FnOnce(&[A], &[B]) -> R,
) -> R {
    let (ka, kb) = (a.lock_order(), b.lock_order());
    if ka == kb {
        let b = b.private_copy();
        return f(&dense(a), &dense(&b));
    }
    if ka < kb {
        let da = dense(a);
        f(&da, &dense(b))
    } else {
        let db = dense(b);
        f(&dense(a), &db)
    }
}

/// `f` of every element, into an array of another element type (a comparison, a test).
pub(crate) fn map_to<T: Element, U: Element>(a: &Array<T>, f: impl Fn(T) -> U) -> Array<U> {
    let c = contiguous(a);
    let src = dense(&c);
    Array::build(a.shape(), |out| {
        for (o, &x) in out.iter_mut().zip(src.iter()) {
            *o = f(x);
        }
    })
}

/// `f(a, b)` elementwise after broadcasting, into an array of element type `U`.
pub(crate) fn zip_to<T: Element, U: Element>(
    op: &'static str,
    a: &Array<T>,
    b: &Array<T>,
    f: impl Fn(T, T) -> U,
) -> Result<Array<U>> {
    let shape = broadcast_shapes(op, a.shape(), b.shape())?;
    let (la, lb) = (
        a.layout().broadcast_to(&shape),
        b.layout().broadcast_to(&shape),
    );
    Ok(a.read_with(b, |da, db| {
        Array::build(&shape, |out| {
            if la.is_contiguous() && lb.is_contiguous() {
                let n = out.len();
                let (sa, sb) = (&da[la.offset..la.offset + n], &db[lb.offset..lb.offset + n]);
                for ((o, &x), &y) in out.iter_mut().zip(sa).zip(sb) {
                    *o = f(x, y);
                }
                return;
            }
            let (len, sa) = row(&shape, &la.strides);
            let sb = row(&shape, &lb.strides).1;
            let mut rows = out.chunks_exact_mut(len.max(1));
            for_each_row(
                &shape,
                [&la.strides, &lb.strides],
                [la.offset, lb.offset],
                |[oa, ob]| {
                    let dst = rows.next().expect("one output row per row");
                    for (j, o) in dst.iter_mut().enumerate() {
                        *o = f(da[oa + j * sa], db[ob + j * sb]);
                    }
                },
            );
        })
    }))
}

/// `f(c, a, b)` elementwise after broadcasting all three (`torch.where`'s shape rule).
/// `c` may have another element type (a `bool` mask).
pub(crate) fn select3<C: Element, T: Element>(
    op: &'static str,
    c: &Array<C>,
    a: &Array<T>,
    b: &Array<T>,
    f: impl Fn(C, T, T) -> T,
) -> Result<Array<T>> {
    let shape = broadcast_shapes(op, a.shape(), b.shape())?;
    let shape = broadcast_shapes(op, c.shape(), &shape).map_err(|_| {
        Error::shape(
            op,
            format!(
                "the mask's shape {:?} does not broadcast with {:?} and {:?}",
                c.shape(),
                a.shape(),
                b.shape()
            ),
        )
    })?;
    // Dense operands of the result's shape are read in place; the others are copied
    // broadcast (a scalar `value`, a bias row): simple, and the common case is the first.
    let fit = |l: &super::Layout| l.is_contiguous() && l.shape.as_slice() == shape.as_slice();
    let expand = |x: &Array<T>| {
        if fit(x.layout()) {
            x.clone()
        } else {
            x.with_layout(x.layout().broadcast_to(&shape))
                .private_copy()
        }
    };
    let (a, b) = (expand(a), expand(b));
    let c = if fit(c.layout()) {
        c.clone()
    } else {
        c.with_layout(c.layout().broadcast_to(&shape))
            .private_copy()
    };
    // The mask is copied out (a byte per element) so only two locks are held at once.
    let mask = c.to_vec();
    let (ca, cb) = (contiguous(&a), contiguous(&b));
    Ok(dense2(&ca, &cb, |da, db| {
        Array::build(&shape, |out| {
            for (((o, &m), &x), &y) in out.iter_mut().zip(&mask).zip(da).zip(db) {
                *o = f(m, x, y);
            }
        })
    }))
}
