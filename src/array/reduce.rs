//! Reductions: sum of everything, sum/max/argmax along a dim, and sum-to-shape.

use super::elementwise::repeats_as_suffix;
use super::layout::{for_each_row, row, Layout};
use super::Array;
use crate::element::Float;
use crate::shape::{numel, reduced_shape};

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

/// The max of a slice (-inf if empty), NaN if it holds one: eight interleaved running
/// maxima and a NaN flag, which vectorise.
pub(crate) fn max_slice<T: Float>(s: &[T]) -> T {
    const LANES: usize = 8;
    let mut maxima = [T::neg_infinity(); LANES];
    let mut nan = false;
    let chunks = s.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for q in 0..LANES {
            let v = chunk[q];
            nan |= v.is_nan();
            maxima[q] = if v > maxima[q] { v } else { maxima[q] };
        }
    }
    for &v in tail {
        nan |= v.is_nan();
        maxima[0] = if v > maxima[0] { v } else { maxima[0] };
    }
    if nan {
        return T::nan();
    }
    maxima
        .iter()
        .fold(T::neg_infinity(), |m, &v| if v > m { v } else { m })
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

/// Walks `a` along `dim` and calls `visit(position, index, value)` with the max of each
/// lane: the first one on ties, and NaN wins, as in PyTorch. `position` counts the lanes
/// in the row-major order of the other dims. The caller checks `dim` and that it is
/// non-empty.
fn for_each_max<T: Float>(a: &Array<T>, dim: usize, mut visit: impl FnMut(usize, usize, T)) {
    let c = a.contiguous();
    let (outer, len, inner) = split_at_dim(c.shape(), dim);
    let guard = c.read();
    let src = &guard[c.layout().offset..c.layout().offset + c.numel()];
    if inner == 1 {
        // Lanes are contiguous rows.
        for (o, row) in src.chunks_exact(len).enumerate() {
            let k = argmax_row(row);
            visit(o, k, row[k]);
        }
        return;
    }
    // Lanes run across `inner`: walk each block row by row, so every read is contiguous
    // and the comparison of one row against the running best vectorises.
    let (mut best, mut best_k) = (vec![T::zero(); inner], vec![0usize; inner]);
    for o in 0..outer {
        let block = &src[o * len * inner..(o + 1) * len * inner];
        best.copy_from_slice(&block[..inner]);
        best_k.fill(0);
        for (k, row) in block.chunks_exact(inner).enumerate().skip(1) {
            for ((b, bk), &v) in best.iter_mut().zip(best_k.iter_mut()).zip(row) {
                if !b.is_nan() && (v > *b || v.is_nan()) {
                    *b = v;
                    *bk = k;
                }
            }
        }
        for (i, (&b, &k)) in best.iter().zip(&best_k).enumerate() {
            visit(o * inner + i, k, b);
        }
    }
}

/// The index of the max of a non-empty row: the first one on ties, the first NaN if there
/// is one (PyTorch's rule). Two passes that vectorise: the max of eight interleaved
/// running maxima, with a flag for any NaN, then the first position holding it.
fn argmax_row<T: Float>(row: &[T]) -> usize {
    const LANES: usize = 8;
    let mut maxima = [row[0]; LANES];
    let mut nan = false;
    let chunks = row.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for q in 0..LANES {
            let v = chunk[q];
            nan |= v.is_nan();
            maxima[q] = if v > maxima[q] { v } else { maxima[q] };
        }
    }
    for &v in tail {
        nan |= v.is_nan();
        maxima[0] = if v > maxima[0] { v } else { maxima[0] };
    }
    if nan {
        return row.iter().position(|v| v.is_nan()).unwrap_or(0);
    }
    let top = maxima
        .iter()
        .fold(maxima[0], |m, &v| if v > m { v } else { m });
    // Without NaN the max equals some element; -0.0 == 0.0, so the first zero of either
    // sign is found, as the one-pass rule (`v > best`) keeps the first.
    row.iter().position(|&v| v == top).unwrap_or(0)
}

/// Max along `dim`. The caller checks `dim` and that it is non-empty.
pub(crate) fn max_dim<T: Float>(a: &Array<T>, dim: usize, keepdim: bool) -> Array<T> {
    let mut values = Vec::with_capacity(a.numel() / a.shape()[dim].max(1));
    for_each_max(a, dim, |_, _, v| values.push(v));
    Array::from_vec(values, &reduced_shape(a.shape(), dim, keepdim))
}

/// Index of the max along `dim`, as PyTorch's int64 indices.
pub(crate) fn argmax_dim<T: Float>(a: &Array<T>, dim: usize, keepdim: bool) -> Array<i64> {
    let mut indices = Vec::with_capacity(a.numel() / a.shape()[dim].max(1));
    for_each_max(a, dim, |_, k, _| indices.push(k as i64));
    Array::from_vec(indices, &reduced_shape(a.shape(), dim, keepdim))
}

/// 1 at the max of each lane along `dim` (as `max_dim` picks it), 0 elsewhere.
pub(crate) fn max_mask<T: Float>(a: &Array<T>, dim: usize) -> Array<T> {
    let (_, len, inner) = split_at_dim(a.shape(), dim);
    let mut mask = vec![T::zero(); a.numel()];
    for_each_max(a, dim, |lane, k, _| {
        let (o, i) = (lane / inner.max(1), lane % inner.max(1));
        mask[(o * len + k) * inner + i] = T::one();
    });
    Array::from_vec(mask, a.shape())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass rule the fast paths must agree with: the first max, the first NaN.
    fn naive(a: &[f64], shape: &[usize], dim: usize) -> Vec<(usize, u64)> {
        let (outer, len, inner) = split_at_dim(shape, dim);
        let mut out = Vec::new();
        for o in 0..outer {
            for i in 0..inner {
                let at = |k: usize| a[(o * len + k) * inner + i];
                let (mut best, mut best_k) = (at(0), 0);
                for k in 1..len {
                    let v = at(k);
                    if !best.is_nan() && (v > best || v.is_nan()) {
                        best = v;
                        best_k = k;
                    }
                }
                out.push((best_k, best.to_bits()));
            }
        }
        out
    }

    #[test]
    fn max_and_argmax_keep_the_first_max_and_the_first_nan_on_every_path() {
        // Few distinct values, so ties, signed zeros and NaNs are common; rows longer
        // than the eight lanes, and shorter; every dim of 1-D to 3-D shapes.
        let pool = [-1.0, 0.0, -0.0, 1.0, 2.0, 2.0, f64::NAN, f64::INFINITY];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for case in 0..400 {
            let rank = 1 + case % 3;
            let shape: Vec<usize> = (0..rank).map(|_| 1 + (next() % 21) as usize).collect();
            let n: usize = shape.iter().product();
            let nan_free = case % 2 == 0;
            let data: Vec<f64> = (0..n)
                .map(|_| pool[(next() % if nan_free { 6 } else { 8 }) as usize])
                .collect();
            let a = Array::from_vec(data.clone(), &shape);
            for dim in 0..rank {
                let mut got = Vec::new();
                for_each_max(&a, dim, |_, k, v| got.push((k, v.to_bits())));
                assert_eq!(got, naive(&data, &shape, dim), "shape {shape:?} dim {dim}");
            }
        }
    }
}
