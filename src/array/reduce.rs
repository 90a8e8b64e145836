//! Reductions: sum of everything, sum/max/argmax along a dim, and sum-to-shape.

use super::elementwise::{repeats_as_suffix, split_rows};
use super::layout::{for_each_row, row, Layout};
use super::Array;
use crate::element::{Element, Float};
use crate::shape::{numel, reduced_shape};

multiversion! {
    /// Sum of a slice with 8 independent accumulators: the compiler vectorizes it (a
    /// single running sum cannot be reordered), one AVX vector of f32 where the CPU has
    /// AVX2, and the error grows more slowly than a plain fold.
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
}

multiversion! {
    /// Sum of a long row, with 64 independent accumulators where [`sum_slice`] has 8: eight
    /// f32 are one AVX vector, so `sum_slice` is one chain of dependent adds, each waiting
    /// out the adder's latency (4 cycles for 8 elements: a fifth of softmax + cross-entropy
    /// went there). Sixty-four keep four AVX-512 vectors, or eight AVX ones, in flight.
    /// The tail goes into the first accumulators, which are then added pairwise (32 + 32,
    /// 16 + 16, ...). Its own association, not `sum_slice`'s: the same bits on every
    /// flavour and thread count, but not `sum_slice`'s bits.
    pub(crate) fn sum_row<T: Float>(s: &[T]) -> T {
        const N: usize = 64;
        let mut acc = [T::zero(); N];
        let (chunks, tail) = s.as_chunks::<N>();
        for c in chunks {
            for i in 0..N {
                acc[i] = acc[i] + c[i];
            }
        }
        for (a, &v) in acc.iter_mut().zip(tail) {
            *a = *a + v;
        }
        let mut n = N;
        while n > 1 {
            n /= 2;
            for i in 0..n {
                acc[i] = acc[i] + acc[i + n];
            }
        }
        acc[0]
    }
}

/// The max of a long row: [`max_slice`]'s value, but for f32 with AVX-512 four vectors
/// of running maxima instead of one, so four `vmaxps` are in flight instead of one chain
/// waiting out each one's latency. The same value as `max_slice`, NaN alike; only a zero
/// maximum may carry the other sign (which zero comes first in a lane differs), so use it
/// where that cannot matter: a shift before `exp`, where `e^(x - 0) = e^(x + 0)`.
pub(crate) fn max_row<T: Float>(s: &[T]) -> T {
    #[cfg(target_arch = "x86_64")]
    if let Some(max) = f32_avx512(s, max_row_f32_avx512) {
        return max;
    }
    max_slice(s)
}

/// [`max_row`] for f32: vector `j` of four takes the chunks of sixteen `4k + j`; the rest
/// goes through [`max_f32_avx512`].
///
/// # Safety
/// The CPU has AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn max_row_f32_avx512(s: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    let (quads, rest) = s.as_chunks::<64>();
    let mut maxima = [_mm512_set1_ps(f32::NEG_INFINITY); 4];
    let mut nan: __mmask16 = 0;
    for quad in quads {
        for (j, m) in maxima.iter_mut().enumerate() {
            // SAFETY: `quad` holds 64 f32, so 16 from `16 j` lie inside.
            let v = unsafe { _mm512_loadu_ps(quad.as_ptr().add(16 * j)) };
            nan |= _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(v, v);
            *m = _mm512_max_ps(v, *m);
        }
    }
    // SAFETY: the CPU has AVX-512F (this function's promise).
    let rest = unsafe { max_f32_avx512(rest) };
    if nan != 0 || rest.is_nan() {
        return f32::NAN;
    }
    let m = _mm512_max_ps(
        _mm512_max_ps(maxima[0], maxima[1]),
        _mm512_max_ps(maxima[2], maxima[3]),
    );
    let mut lanes = [0f32; 16];
    // SAFETY: `lanes` holds 16 f32.
    unsafe { _mm512_storeu_ps(lanes.as_mut_ptr(), m) };
    lanes.iter().fold(rest, |m, &v| if v > m { v } else { m })
}

/// The max of a slice (-inf if empty), NaN if it holds one. For f32 on a CPU with
/// AVX-512, one vector of sixteen running maxima (see [`max_f32_avx512`]); else
/// [`max_lanes`], the same sixteen lanes in portable code.
pub(crate) fn max_slice<T: Float>(s: &[T]) -> T {
    #[cfg(target_arch = "x86_64")]
    if let Some(max) = f32_avx512(s, max_f32_avx512) {
        return max;
    }
    max_lanes(s)
}

/// `kernel(s)` when `T` is f32 and the CPU has AVX-512F; `None` otherwise.
#[cfg(target_arch = "x86_64")]
fn f32_avx512<T: Float>(s: &[T], kernel: unsafe fn(&[f32]) -> f32) -> Option<T> {
    if T::DTYPE != crate::element::DType::F32 || !std::arch::is_x86_feature_detected!("avx512f") {
        return None;
    }
    // SAFETY: `Element` is sealed and `DTYPE` names the primitive, so `T` is f32 here: the
    // cast changes nothing but the type's name. The CPU has AVX-512F (checked), all the
    // kernels passed here ask for.
    let value = unsafe {
        kernel(std::slice::from_raw_parts(
            s.as_ptr() as *const f32,
            s.len(),
        ))
    };
    Some(T::from(value).unwrap_or_else(T::nan))
}

/// [`max_lanes`] for f32, written out: lane `q` of one AVX-512 vector takes elements
/// `16k + q` in order, exactly as the portable lanes do, so the results are the same bits.
/// (The compiler's own vectorisation of `max_lanes` split the sixteen lanes into groups of
/// 2, 2, 4 and 8 and ran four times slower.)
///
/// # Safety
/// The CPU has AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn max_f32_avx512(s: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    let (chunks, tail) = s.as_chunks::<16>();
    let mut maxima = _mm512_set1_ps(f32::NEG_INFINITY);
    let mut nan: __mmask16 = 0;
    for chunk in chunks {
        // SAFETY: `chunk` holds 16 f32.
        let v = unsafe { _mm512_loadu_ps(chunk.as_ptr()) };
        nan |= _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(v, v);
        // `v > max ? v : max` lane by lane (a NaN `v` leaves `max`; the flag has it).
        maxima = _mm512_max_ps(v, maxima);
    }
    let mut lanes = [0f32; 16];
    // SAFETY: `lanes` holds 16 f32.
    unsafe { _mm512_storeu_ps(lanes.as_mut_ptr(), maxima) };
    let mut any_nan = nan != 0;
    for &v in tail {
        any_nan |= v.is_nan();
        lanes[0] = if v > lanes[0] { v } else { lanes[0] };
    }
    if any_nan {
        return f32::NAN;
    }
    lanes
        .iter()
        .fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m })
}

multiversion! {
    /// The max of a slice (-inf if empty), NaN if it holds one: sixteen interleaved running
    /// maxima and a NaN flag.
    fn max_lanes<T: Float>(s: &[T]) -> T {
        const LANES: usize = 16;
        let mut maxima = [T::neg_infinity(); LANES];
        let mut nan = [false; LANES];
        let chunks = s.chunks_exact(LANES);
        let tail = chunks.remainder();
        for chunk in chunks {
            for q in 0..LANES {
                let v = chunk[q];
                nan[q] |= v.is_nan();
                maxima[q] = if v > maxima[q] { v } else { maxima[q] };
            }
        }
        for &v in tail {
            nan[0] |= v.is_nan();
            maxima[0] = if v > maxima[0] { v } else { maxima[0] };
        }
        if nan.iter().any(|&n| n) {
            return T::nan();
        }
        maxima
            .iter()
            .fold(T::neg_infinity(), |m, &v| if v > m { v } else { m })
    }
}

/// A long sum is cut into pieces of this many elements, summed on their own (on as many
/// threads as are set) and then added in order: fixed pieces, so the same bits for any
/// thread count, though not the bits of one unbroken [`sum_slice`].
const SUM_PIECE: usize = 1 << 16;

/// [`sum_slice`] of a long slice, by [`SUM_PIECE`]s, split across threads.
pub(crate) fn sum_pieces<T: Float>(s: &[T]) -> T {
    if s.len() <= SUM_PIECE {
        return sum_slice(s);
    }
    let mut partial = vec![T::zero(); s.len().div_ceil(SUM_PIECE)];
    split_rows(s, SUM_PIECE, &mut partial, 1, |_, pieces, out| {
        for (piece, o) in pieces.chunks(SUM_PIECE).zip(out) {
            *o = sum_slice(piece);
        }
    });
    sum_slice(&partial)
}

/// Sum of every element (see [`SUM_PIECE`] for a long one).
pub(crate) fn sum_all<T: Float>(a: &Array<T>) -> T {
    if let Some(s) = a.with_contiguous_slice(sum_pieces) {
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
            // Rows, split across threads when large (each row alike: the same bits).
            split_rows(src, len, out, 1, |_, rows, out| {
                for (row, slot) in rows.chunks_exact(len.max(1)).zip(out.iter_mut()) {
                    *slot = sum_slice(row);
                }
                if len == 0 {
                    out.fill(T::zero());
                }
            });
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
/// is one (PyTorch's rule). Two passes that vectorise: the max (NaN if any), then the
/// first position holding it, found sixteen elements at a time.
fn argmax_row<T: Float>(row: &[T]) -> usize {
    let top = max_slice(row);
    if top.is_nan() {
        first_match(row, |v: T| v.is_nan())
    } else {
        // Without NaN the max equals some element; -0.0 == 0.0, so the first zero of
        // either sign is found, as the one-pass rule (`v > best`) keeps the first.
        first_match(row, |v: T| v == top)
    }
}

/// The first position where `hit` holds (0 if none): each block of sixteen is tested at
/// once (a branch-free compare and or, which vectorises) before it is searched.
#[inline(always)]
fn first_match<T: Float>(row: &[T], hit: impl Fn(T) -> bool) -> usize {
    const BLOCK: usize = 16;
    for (b, block) in row.chunks(BLOCK).enumerate() {
        if block.iter().fold(false, |any, &v| any | hit(v)) {
            return b * BLOCK + block.iter().position(|&v| hit(v)).unwrap_or(0);
        }
    }
    0
}

/// Max along `dim`. The caller checks `dim` and that it is non-empty.
pub(crate) fn max_dim<T: Float>(a: &Array<T>, dim: usize, keepdim: bool) -> Array<T> {
    let shape = reduced_shape(a.shape(), dim, keepdim);
    // The max itself, except where its sign or NaN payload depends on which element it is
    // (a zero of either sign, a NaN): there the first max's element, as the indices say.
    let first_max = |row: &[T]| {
        let top = max_slice(row);
        if top == T::zero() || top.is_nan() {
            row[argmax_row(row)]
        } else {
            top
        }
    };
    if let Some(values) = along_rows(a, dim, &shape, first_max) {
        return values;
    }
    let mut values = Vec::with_capacity(a.numel() / a.shape()[dim].max(1));
    for_each_max(a, dim, |_, _, v| values.push(v));
    Array::from_vec(values, &shape)
}

/// `f(row)` for each row when `dim` is the last (after the leading ones), with rows
/// split across threads for a large array; `None` for another dim.
fn along_rows<T: Float, E: Element>(
    a: &Array<T>,
    dim: usize,
    shape: &[usize],
    f: impl Fn(&[T]) -> E + Sync,
) -> Option<Array<E>> {
    let (_, len, inner) = split_at_dim(a.shape(), dim);
    if inner != 1 || len == 0 {
        return None;
    }
    let c = a.contiguous();
    let guard = c.read();
    let src = &guard[c.layout().offset..c.layout().offset + c.numel()];
    Some(Array::build(shape, |out| {
        split_rows(src, len, out, 1, |_, rows, out| {
            for (row, o) in rows.chunks_exact(len).zip(out) {
                *o = f(row);
            }
        })
    }))
}

/// Index of the max along `dim`, as PyTorch's int64 indices.
pub(crate) fn argmax_dim<T: Float>(a: &Array<T>, dim: usize, keepdim: bool) -> Array<i64> {
    let shape = reduced_shape(a.shape(), dim, keepdim);
    if let Some(indices) = along_rows(a, dim, &shape, |row| argmax_row(row) as i64) {
        return indices;
    }
    let mut indices = Vec::with_capacity(a.numel() / a.shape()[dim].max(1));
    for_each_max(a, dim, |_, k, _| indices.push(k as i64));
    Array::from_vec(indices, &shape)
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
    if crate::shape::same(a.shape(), target) {
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

    /// The f32 max through AVX-512 gives the portable lanes' bits: signed zeros, NaNs,
    /// infinities and ties in every lane, lengths around the 16-lane chunks.
    #[test]
    fn f32_max_gives_the_portable_bits() {
        // The second pool's max is a zero of either sign, so which equal value a lane
        // keeps shows in the result.
        let pools = [
            [
                -1.0f32,
                0.0,
                -0.0,
                1.0,
                2.0,
                2.0,
                f32::NEG_INFINITY,
                f32::INFINITY,
            ],
            [-1.0f32, 0.0, -0.0, -0.0, 0.0, -2.0, f32::NEG_INFINITY, -3.0],
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || xorshift(&mut state);
        for (len, pool) in (0..70)
            .chain([1000, 1003])
            .flat_map(|n| pools.map(|p| (n, p)))
        {
            for with_nan in [false, true] {
                let mut s: Vec<f32> = (0..len).map(|_| pool[next() as usize % 8]).collect();
                if with_nan && len > 0 {
                    let at = next() as usize % len;
                    s[at] = f32::NAN;
                }
                let (fast, lanes) = (max_slice(&s), max_lanes_portable(&s));
                assert_eq!(fast.to_bits(), lanes.to_bits(), "len {len}, {s:?}");
            }
        }
    }

    /// The row max takes four vectors of maxima: the same value as `max_slice` (a zero's
    /// sign aside), NaN where the row holds one; lengths around the 64-element quads.
    #[test]
    fn row_max_gives_the_slice_max() {
        let pool = [-1.0f32, 0.0, -0.0, 1.0, 2.0, -7.5, f32::NEG_INFINITY, 3.25];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || xorshift(&mut state);
        for len in (0..140).chain([255, 256, 257, 1000, 1003]) {
            for with_nan in [false, true] {
                for _ in 0..4 {
                    let mut s: Vec<f32> = (0..len).map(|_| pool[next() as usize % 8]).collect();
                    if with_nan && len > 0 {
                        s[next() as usize % len] = f32::NAN;
                    }
                    let (row, slice) = (max_row(&s), max_slice(&s));
                    assert!(
                        row == slice || (row.is_nan() && slice.is_nan()),
                        "len {len}: {row} against {slice}, {s:?}"
                    );
                    // The largest value anywhere in the row, so it is not only the lanes
                    // agreeing with each other.
                    if !with_nan {
                        let want = s.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
                        assert_eq!(row, want, "len {len}");
                    }
                }
            }
        }
    }

    /// The row sum is its 64 lanes, summed in order, then pairwise: the same bits as that
    /// association written out plainly, on whichever flavour this CPU runs; and within
    /// rounding of the exact sum.
    #[test]
    fn row_sum_is_its_64_lanes_added_pairwise() {
        fn written_out(s: &[f32]) -> f32 {
            let mut acc = [0f32; 64];
            let whole = s.len() / 64 * 64;
            for (i, &v) in s[..whole].iter().enumerate() {
                acc[i % 64] += v;
            }
            for (i, &v) in s[whole..].iter().enumerate() {
                acc[i] += v;
            }
            let mut n = 64;
            while n > 1 {
                n /= 2;
                for i in 0..n {
                    acc[i] += acc[i + n];
                }
            }
            acc[0]
        }
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || xorshift(&mut state);
        for len in (0..200).chain([1000, 1003, 4099]) {
            let s: Vec<f32> = (0..len)
                .map(|_| (next() % 2001) as f32 / 1000.0 - 1.0 + (next() % 7) as f32 * 1e-4)
                .collect();
            let got = sum_row(&s);
            assert_eq!(got.to_bits(), written_out(&s).to_bits(), "len {len}");
            let exact: f64 = s.iter().map(|&v| v as f64).sum();
            let scale: f64 = s.iter().map(|&v| v.abs() as f64).sum();
            assert!(
                (got as f64 - exact).abs() <= 1e-6 * scale + f64::MIN_POSITIVE,
                "len {len}: {got} against {exact}"
            );
            // f64 rows take the same association.
            let wide: Vec<f64> = s.iter().map(|&v| v as f64).collect();
            assert!((sum_row(&wide) - exact).abs() <= 1e-12 * scale + f64::MIN_POSITIVE);
        }
    }

    /// A xorshift step: reproducible test values without a generator crate.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    /// `max_lanes` without the runtime dispatch to AVX-512 or AVX2.
    fn max_lanes_portable(s: &[f32]) -> f32 {
        let mut maxima = [f32::NEG_INFINITY; 16];
        let mut nan = false;
        for (i, &v) in s.iter().enumerate() {
            let q = if i < s.len() / 16 * 16 { i % 16 } else { 0 };
            nan |= v.is_nan();
            maxima[q] = if v > maxima[q] { v } else { maxima[q] };
        }
        if nan {
            return f32::NAN;
        }
        maxima
            .iter()
            .fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m })
    }

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
        let mut next = || xorshift(&mut state);
        for case in 0..600 {
            let rank = 1 + case % 3;
            let shape: Vec<usize> = (0..rank).map(|_| 1 + (next() % 41) as usize).collect();
            let n: usize = shape.iter().product();
            // Without NaN, with NaN, and zeros of both signs as the max.
            let choices = [6, 8, 3][case % 3];
            let data: Vec<f64> = (0..n).map(|_| pool[(next() % choices) as usize]).collect();
            let a = Array::from_vec(data.clone(), &shape);
            for dim in 0..rank {
                let mut got = Vec::new();
                for_each_max(&a, dim, |_, k, v| got.push((k, v.to_bits())));
                let want = naive(&data, &shape, dim);
                assert_eq!(got, want, "shape {shape:?} dim {dim}");
                // And the kernels themselves (rows through `along_rows` for the last dim).
                let values = max_dim(&a, dim, false).to_vec();
                let indices = argmax_dim(&a, dim, false).to_vec();
                let got: Vec<(usize, u64)> = indices
                    .iter()
                    .zip(&values)
                    .map(|(&k, v)| (k as usize, v.to_bits()))
                    .collect();
                assert_eq!(got, want, "max_dim/argmax_dim, shape {shape:?} dim {dim}");
            }
        }
    }
}
