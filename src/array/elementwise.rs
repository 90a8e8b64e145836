//! Elementwise kernels: unary maps, broadcasting binary ops, and in-place updates.
//!
//! Each kernel has a contiguous fast path (slice iterators the compiler vectorizes, no
//! index arithmetic, no bounds checks in the loop) and a strided fallback that walks rows.

use super::layout::{for_each_row, row};
use super::Array;
use crate::error::Result;
use crate::shape::{broadcast_shapes, numel};
use num_traits::Float;

/// `f` applied to every element; the result is contiguous.
pub(crate) fn map<T: Float>(a: &Array<T>, f: impl Fn(T) -> T) -> Array<T> {
    let layout = a.layout();
    let n = layout.numel();
    let out = {
        let data = a.read();
        if layout.is_contiguous() {
            // `collect` from a slice iterator compiles to a vectorized loop; `extend` into a
            // Vec that is also being grown does not always.
            data[layout.offset..layout.offset + n]
                .iter()
                .map(|&x| f(x))
                .collect()
        } else {
            let mut out = Vec::with_capacity(n);
            let (len, stride) = row(&layout.shape, &layout.strides);
            for_each_row(&layout.shape, [&layout.strides], [layout.offset], |[o]| {
                if stride == 1 {
                    out.extend(data[o..o + len].iter().map(|&x| f(x)));
                } else {
                    out.extend((0..len).map(|j| f(data[o + j * stride])));
                }
            });
            out
        }
    };
    Array::from_vec(out, &layout.shape)
}

/// `f(a, b)` elementwise after broadcasting `a` and `b` to a common shape.
pub(crate) fn zip_map<T: Float>(
    op: &'static str,
    a: &Array<T>,
    b: &Array<T>,
    f: impl Fn(T, T) -> T,
) -> Result<Array<T>> {
    let shape = broadcast_shapes(op, a.shape(), b.shape())?;
    let n = numel(&shape);
    let (la, lb) = (a.layout(), b.layout());
    let out = {
        let guard_a = a.read();
        let guard_b;
        // One storage read-locked twice by one thread may deadlock: lock it once.
        let db: &[T] = if a.same_storage(b) {
            &guard_a
        } else {
            guard_b = b.read();
            &guard_b
        };
        let da: &[T] = &guard_a;
        let a_dense = la.is_contiguous() && la.shape == shape;
        let b_dense = lb.is_contiguous() && lb.shape == shape;
        if a_dense && b_dense {
            let (sa, sb) = (&da[la.offset..la.offset + n], &db[lb.offset..lb.offset + n]);
            sa.iter().zip(sb).map(|(&x, &y)| f(x, y)).collect()
        } else if a_dense && lb.numel() == 1 {
            let y = db[lb.offset];
            da[la.offset..la.offset + n]
                .iter()
                .map(|&x| f(x, y))
                .collect()
        } else if b_dense && la.numel() == 1 {
            let x = da[la.offset];
            db[lb.offset..lb.offset + n]
                .iter()
                .map(|&y| f(x, y))
                .collect()
        } else {
            let mut out = Vec::with_capacity(n);
            let (ba, bb) = (la.broadcast_to(&shape), lb.broadcast_to(&shape));
            let (len, sa) = row(&shape, &ba.strides);
            let sb = row(&shape, &bb.strides).1;
            for_each_row(
                &shape,
                [&ba.strides, &bb.strides],
                [ba.offset, bb.offset],
                |[oa, ob]| match (sa, sb) {
                    (1, 1) => {
                        let (ra, rb) = (&da[oa..oa + len], &db[ob..ob + len]);
                        out.extend(ra.iter().zip(rb).map(|(&x, &y)| f(x, y)));
                    }
                    (1, 0) => {
                        let y = db[ob];
                        out.extend(da[oa..oa + len].iter().map(|&x| f(x, y)));
                    }
                    (0, 1) => {
                        let x = da[oa];
                        out.extend(db[ob..ob + len].iter().map(|&y| f(x, y)));
                    }
                    _ => out.extend((0..len).map(|j| f(da[oa + j * sa], db[ob + j * sb]))),
                },
            );
            out
        }
    };
    Ok(Array::from_vec(out, &shape))
}

/// `dst[i] = f(dst[i], src[i])` through `dst`'s layout, with `src` broadcast to `dst`'s
/// shape (the caller checks that it broadcasts and that `dst` has no overlapping elements).
pub(crate) fn apply_inplace<T: Float>(dst: &Array<T>, src: &Array<T>, f: impl Fn(T, T) -> T) {
    // Reading and writing one buffer at once would alias: read a private copy instead.
    let src = if dst.same_storage(src) {
        Array::from_vec(src.to_vec(), src.shape())
    } else {
        src.clone()
    };
    let ld = dst.layout().clone();
    let ls = src.layout().broadcast_to(&ld.shape);
    {
        let mut guard_d = dst.write();
        let guard_s = src.read();
        let (dd, ds): (&mut [T], &[T]) = (&mut guard_d, &guard_s);
        let n = ld.numel();
        if ld.is_contiguous() && ls.is_contiguous() {
            let rd = &mut dd[ld.offset..ld.offset + n];
            for (x, &y) in rd.iter_mut().zip(&ds[ls.offset..ls.offset + n]) {
                *x = f(*x, y);
            }
        } else {
            let (len, sd) = row(&ld.shape, &ld.strides);
            let ss = row(&ld.shape, &ls.strides).1;
            for_each_row(
                &ld.shape,
                [&ld.strides, &ls.strides],
                [ld.offset, ls.offset],
                |[od, os]| {
                    for j in 0..len {
                        let x = &mut dd[od + j * sd];
                        *x = f(*x, ds[os + j * ss]);
                    }
                },
            );
        }
    }
    dst.bump_version();
}

/// `dst[i] = f(dst[i])` through `dst`'s layout.
pub(crate) fn apply_inplace_scalar<T: Float>(dst: &Array<T>, f: impl Fn(T) -> T) {
    let ld = dst.layout().clone();
    {
        let mut guard = dst.write();
        let data: &mut [T] = &mut guard;
        if ld.is_contiguous() {
            for x in &mut data[ld.offset..ld.offset + ld.numel()] {
                *x = f(*x);
            }
        } else {
            let (len, sd) = row(&ld.shape, &ld.strides);
            for_each_row(&ld.shape, [&ld.strides], [ld.offset], |[od]| {
                for j in 0..len {
                    let x = &mut data[od + j * sd];
                    *x = f(*x);
                }
            });
        }
    }
    dst.bump_version();
}
