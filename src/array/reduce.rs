//! Reductions: sum of everything, sum/max/argmax along a dim, and sum-to-shape.

use super::elementwise::repeats_as_suffix;
use super::layout::{for_each_row, row, Layout};
use super::Array;
use crate::shape::{numel, reduced_shape};
use num_traits::Float;

/// Sum of a slice with 8 independent accumulators: the compiler vectorizes it (a single
/// running sum cannot be reordered), and the error grows more slowly than a plain fold.
pub(crate) fn sum_slice<T: Float>(s: &[T]) -> T {
    let mut acc = [T::zero(); 8];
    let chunks = s.chunks_exact(8);
    let tail = chunks.remainder().iter().fold(T::zero(), |a, &b| a + b);
    for c in chunks {
        for i in 0..8 {
            acc[i] = acc[i] + c[i];
        }
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// Sum of every element.
pub(crate) fn sum_all<T: Float>(a: &Array<T>) -> T {
    if let Some(s) = a.with_contiguous_slice(sum_slice) {
        return s;
    }
    let l = a.layout();
    let data = a.read();
    let (len, stride) = row(&l.shape, &l.strides);
    let mut total = T::zero();
    for_each_row(&l.shape, [&l.strides], [l.offset], |[o]| {
        total = total
            + if stride == 1 {
                sum_slice(&data[o..o + len])
            } else {
                (0..len).fold(T::zero(), |acc, j| acc + data[o + j * stride])
            };
    });
    total
}

/// (outer, len, inner): a contiguous tensor seen as [outer, len, inner] around `dim`.
fn split_at_dim(shape: &[usize], dim: usize) -> (usize, usize, usize) {
    (numel(&shape[..dim]), shape[dim], numel(&shape[dim + 1..]))
}

/// Sum along `dim`. The caller checks `dim`.
pub(crate) fn sum_dim<T: Float>(a: &Array<T>, dim: usize, keepdim: bool) -> Array<T> {
    let c = a.contiguous();
    let (outer, len, inner) = split_at_dim(c.shape(), dim);
    let guard = c.read();
    let src = &guard[c.layout().offset..c.layout().offset + c.numel()];
    Array::build(&reduced_shape(c.shape(), dim, keepdim), |out| {
        if inner == 1 {
            for (o, slot) in out.iter_mut().enumerate() {
                *slot = sum_slice(&src[o * len..(o + 1) * len]);
            }
        } else {
            out.fill(T::zero());
            for o in 0..outer {
                let dst = &mut out[o * inner..(o + 1) * inner];
                for k in 0..len {
                    let start = (o * len + k) * inner;
                    for (d, &s) in dst.iter_mut().zip(&src[start..start + inner]) {
                        *d = *d + s;
                    }
                }
            }
        }
    })
}

/// Max along `dim` and the index where it is (the first one on ties; NaN wins, as in
/// PyTorch). Indices are stored as `T`. The caller checks `dim` and that it is non-empty.
pub(crate) fn max_dim<T: Float>(a: &Array<T>, dim: usize, keepdim: bool) -> (Array<T>, Array<T>) {
    let c = a.contiguous();
    let (outer, len, inner) = split_at_dim(c.shape(), dim);
    let mut values = Vec::with_capacity(outer * inner);
    let mut indices = Vec::with_capacity(outer * inner);
    {
        let guard = c.read();
        let src = &guard[c.layout().offset..c.layout().offset + c.numel()];
        for o in 0..outer {
            for i in 0..inner {
                let at = |k: usize| src[(o * len + k) * inner + i];
                let (mut best, mut best_k) = (at(0), 0);
                for k in 1..len {
                    let v = at(k);
                    if !best.is_nan() && (v > best || v.is_nan()) {
                        best = v;
                        best_k = k;
                    }
                }
                values.push(best);
                indices.push(T::from(best_k).unwrap_or_else(T::nan));
            }
        }
    }
    let shape = reduced_shape(c.shape(), dim, keepdim);
    (
        Array::from_vec(values, &shape),
        Array::from_vec(indices, &shape),
    )
}

/// Index of the max along `dim`, as `T`.
pub(crate) fn argmax_dim<T: Float>(a: &Array<T>, dim: usize, keepdim: bool) -> Array<T> {
    max_dim(a, dim, keepdim).1
}

/// The column sums of `src` read as rows of `N`, added row after row.
fn sum_rows<T: Float, const N: usize>(src: &[T]) -> [T; N] {
    let mut sums = [T::zero(); N];
    for row in src.chunks_exact(N) {
        for q in 0..N {
            sums[q] = sums[q] + row[q];
        }
    }
    sums
}

/// Sums `a` down to `target`, a shape that broadcasts to `a`'s: the adjoint of broadcasting,
/// used to bring a gradient back to its input's shape. One pass, one allocation.
pub(crate) fn sum_to_shape<T: Float>(a: &Array<T>, target: &[usize]) -> Array<T> {
    if a.shape() == target {
        return a.clone();
    }
    let c = a.contiguous();
    let shape = c.shape();
    let out_layout = Layout::contiguous(target).broadcast_to(shape);
    let guard = c.read();
    let src = &guard[c.layout().offset..c.layout().offset + c.numel()];
    if numel(target) > 1 && repeats_as_suffix(&Layout::contiguous(target), shape) {
        // A bias's gradient: add the rows of `src` together, one row at a time (a scalar
        // target keeps the path below, whose sum_slice is faster and more accurate).
        return Array::build(target, |out| match out.len() {
            // Narrow rows (a small layer's bias) keep their sums in registers.
            2 => out.copy_from_slice(&sum_rows::<T, 2>(src)),
            3 => out.copy_from_slice(&sum_rows::<T, 3>(src)),
            4 => out.copy_from_slice(&sum_rows::<T, 4>(src)),
            _ => {
                out.fill(T::zero());
                for chunk in src.chunks_exact(out.len()) {
                    for (d, &s) in out.iter_mut().zip(chunk) {
                        *d = *d + s;
                    }
                }
            }
        });
    }
    Array::build(target, |out| {
        out.fill(T::zero());
        let (len, stride) = row(shape, &out_layout.strides);
        let mut pos = 0;
        for_each_row(shape, [&out_layout.strides], [0], |[o]| {
            let r = &src[pos..pos + len];
            pos += len;
            if stride == 0 {
                out[o] = out[o] + sum_slice(r);
            } else {
                for (d, &s) in out[o..o + len].iter_mut().zip(r) {
                    *d = *d + s;
                }
            }
        });
    })
}
