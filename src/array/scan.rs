//! Kernels along one dim: sorting, running sums and products, and per-lane reductions.

use super::select::{contiguous, dense, lanes};
use super::Array;
use crate::element::{DType, Float};
use std::mem::MaybeUninit;

/// A key whose unsigned order is the total order PyTorch sorts floats in: -inf < ... <
/// -0 = 0 < ... < inf < NaN (every NaN alike).
fn sort_key_f64(x: f64) -> u64 {
    if x.is_nan() {
        return u64::MAX;
    }
    let x = if x == 0.0 { 0.0 } else { x };
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

fn sort_key_f32(x: f32) -> u32 {
    if x.is_nan() {
        return u32::MAX;
    }
    let x = if x == 0.0 { 0.0 } else { x };
    let bits = x.to_bits();
    if bits >> 31 == 1 {
        !bits
    } else {
        bits | (1 << 31)
    }
}

/// The permutation that sorts each lane along `dim`, stable (equal values keep their
/// order), NaN last (first if `descending`), as `torch.sort(stable=True)`.
pub(crate) fn argsort<T: Float>(x: &Array<T>, dim: usize, descending: bool) -> Array<i64> {
    let (outer, len, inner) = lanes(x.shape(), dim);
    let c = contiguous(x);
    let src = dense(&c);
    Array::build(x.shape(), |out| {
        let mut keys32: Vec<u64> = Vec::with_capacity(len);
        let mut keys64: Vec<(u64, u32)> = Vec::new();
        for o in 0..outer {
            for i in 0..inner {
                let at = |k: usize| (o * len + k) * inner + i;
                if T::DTYPE == DType::F32 && len <= u32::MAX as usize {
                    // The key in the high half and the position in the low half: one u64
                    // sort, and equal keys stay in position order (stable).
                    keys32.clear();
                    keys32.extend((0..len).map(|k| {
                        let key = sort_key_f32(src[at(k)].to_f32().unwrap_or(f32::NAN));
                        let key = if descending { !key } else { key };
                        (u64::from(key) << 32) | k as u64
                    }));
                    keys32.sort_unstable();
                    for (k, key) in keys32.iter().enumerate() {
                        out[at(k)] = (key & 0xffff_ffff) as i64;
                    }
                } else {
                    keys64.clear();
                    keys64.extend((0..len).map(|k| {
                        let key = sort_key_f64(src[at(k)].to_f64().unwrap_or(f64::NAN));
                        (if descending { !key } else { key }, k as u32)
                    }));
                    keys64.sort_unstable();
                    for (k, &(_, j)) in keys64.iter().enumerate() {
                        out[at(k)] = i64::from(j);
                    }
                }
            }
        }
    })
}

/// Cumulative sum along `dim` (from the end if `reverse`), accumulated in f64 as PyTorch
/// does on the CPU (`acc_type<float>` is `double`), so f32 results match it to the bit.
pub(crate) fn cumsum<T: Float>(x: &Array<T>, dim: usize, reverse: bool) -> Array<T> {
    let (outer, len, inner) = lanes(x.shape(), dim);
    let c = contiguous(x);
    let src = dense(&c);
    let fill = |out: &mut [MaybeUninit<T>]| {
        #[cfg(target_arch = "x86_64")]
        if inner == 1 && !reverse && T::DTYPE == DType::F32 && avx2::available() {
            // SAFETY: `T` is f32 (its sealed DTYPE says so), so both slices can be
            // read as f32; AVX2 was detected.
            let (src, out) = unsafe {
                (
                    std::slice::from_raw_parts(src.as_ptr().cast::<f32>(), src.len()),
                    std::slice::from_raw_parts_mut(
                        out.as_mut_ptr().cast::<MaybeUninit<f32>>(),
                        out.len(),
                    ),
                )
            };
            for (dst, lane) in out
                .chunks_exact_mut(len.max(1))
                .zip(src.chunks_exact(len.max(1)))
            {
                // SAFETY: AVX2 was detected above.
                unsafe { avx2::cumsum_f32(lane, dst) };
            }
            return;
        }
        if inner == 1 && !reverse && len > 0 {
            // Eight lanes at a time: eight independent running sums keep the adder busy
            // (one running sum is a chain of dependent additions).
            let mut out_lanes = out.chunks_exact_mut(len * LANES);
            let mut src_lanes = src.chunks_exact(len * LANES);
            for (dst, block) in (&mut out_lanes).zip(&mut src_lanes) {
                let mut acc = [0.0f64; LANES];
                let (block, dst) = (&block[..LANES * len], &mut dst[..LANES * len]);
                for k in 0..len {
                    for (l, a) in acc.iter_mut().enumerate() {
                        *a += to_f64(block[l * len + k]);
                        dst[l * len + k].write(from_f64(*a));
                    }
                }
            }
            for (dst, lane) in out_lanes
                .into_remainder()
                .chunks_exact_mut(len)
                .zip(src_lanes.remainder().chunks_exact(len))
            {
                let mut acc = 0.0f64;
                for (d, &s) in dst.iter_mut().zip(lane) {
                    acc += to_f64(s);
                    d.write(from_f64(acc));
                }
            }
            return;
        }
        if inner == 1 {
            for (dst, lane) in out
                .chunks_exact_mut(len.max(1))
                .zip(src.chunks_exact(len.max(1)))
            {
                let mut acc = 0.0f64;
                if reverse {
                    for (d, &s) in dst.iter_mut().zip(lane).rev() {
                        acc += s.to_f64().unwrap_or(f64::NAN);
                        d.write(T::from(acc).unwrap_or_else(T::nan));
                    }
                } else {
                    for (d, &s) in dst.iter_mut().zip(lane) {
                        acc += s.to_f64().unwrap_or(f64::NAN);
                        d.write(T::from(acc).unwrap_or_else(T::nan));
                    }
                }
            }
            return;
        }
        // Along an outer dim: a row of running sums, advanced one row at a time.
        let mut acc = vec![0.0f64; inner];
        for o in 0..outer {
            acc.fill(0.0);
            for step in 0..len {
                let k = if reverse { len - 1 - step } else { step };
                let at = (o * len + k) * inner;
                for ((a, d), &s) in acc
                    .iter_mut()
                    .zip(&mut out[at..at + inner])
                    .zip(&src[at..at + inner])
                {
                    *a += s.to_f64().unwrap_or(f64::NAN);
                    d.write(T::from(*a).unwrap_or_else(T::nan));
                }
            }
        }
    };
    // SAFETY: every path of `fill` writes each output element once: each lane (by AVX2, in
    // blocks of eight lanes, or one by one), or each row of running sums along an outer dim.
    unsafe { Array::build_uninit(x.shape(), fill) }
}

/// `cumsum` of f32 lanes with AVX2: four elements at a time, summed in f64 inside the
/// register (`[x₀, x₀+x₁, x₀+x₁+x₂, …]`, exact for four f32 values) and added to the running
/// total, so the chain of dependent additions is one per four elements. Same results as
/// the one-by-one f64 sum up to its last bit (PyTorch's CPU kernel accumulates in double).
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;
    use std::mem::MaybeUninit;

    /// Whether this CPU has AVX2 (checked once; `std` caches it).
    pub(super) fn available() -> bool {
        is_x86_feature_detected!("avx2")
    }

    /// The running sums of `lane` into `out` (of the same length).
    ///
    /// # Safety
    ///
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn cumsum_f32(lane: &[f32], out: &mut [MaybeUninit<f32>]) {
        let n = lane.len().min(out.len());
        let whole = n / 4 * 4;
        let mut carry = _mm256_setzero_pd();
        let mut i = 0;
        while i < whole {
            // SAFETY: i + 4 <= whole <= both lengths.
            let x = _mm256_cvtps_pd(unsafe { _mm_loadu_ps(lane.as_ptr().add(i)) });
            // [x₀, x₀+x₁, x₁+x₂, x₂+x₃], then + [0, 0, s₀, s₁]: the prefix sums.
            let shifted = _mm256_blend_pd(
                _mm256_permute4x64_pd(x, 0b10_01_00_00),
                _mm256_setzero_pd(),
                0b0001,
            );
            let s1 = _mm256_add_pd(x, shifted);
            let shifted = _mm256_blend_pd(
                _mm256_permute4x64_pd(s1, 0b01_00_00_00),
                _mm256_setzero_pd(),
                0b0011,
            );
            let sums = _mm256_add_pd(_mm256_add_pd(s1, shifted), carry);
            // SAFETY: as for the load; MaybeUninit<f32> has f32's layout.
            unsafe { _mm_storeu_ps(out.as_mut_ptr().add(i).cast::<f32>(), _mm256_cvtpd_ps(sums)) };
            carry = _mm256_permute4x64_pd(sums, 0b11_11_11_11);
            i += 4;
        }
        let mut total = _mm256_cvtsd_f64(carry);
        for (o, &v) in out[whole..n].iter_mut().zip(&lane[whole..n]) {
            total += f64::from(v);
            o.write(total as f32);
        }
    }
}

/// Lanes `cumsum` runs side by side.
const LANES: usize = 8;

/// `x` as f64 (exact for f32 and f64).
#[inline(always)]
fn to_f64<T: Float>(x: T) -> f64 {
    x.to_f64().unwrap_or(f64::NAN)
}

/// `x` rounded to `T` once, without num-traits' range check (an f64 beyond f32's range
/// rounds to infinity, as PyTorch's cast does).
#[inline(always)]
fn from_f64<T: Float>(x: f64) -> T {
    if T::DTYPE == DType::F32 {
        T::from(x as f32).unwrap_or_else(T::nan)
    } else {
        T::from(x).unwrap_or_else(T::nan)
    }
}

/// Calls `f(lane, out_lane)` on each lane along `dim` (gathered into a buffer) with the
/// matching lane of a result of the same shape.
fn map_lanes<T: Float>(x: &Array<T>, dim: usize, mut f: impl FnMut(&[T], &mut [T])) -> Array<T> {
    let (outer, len, inner) = lanes(x.shape(), dim);
    let c = contiguous(x);
    let src = dense(&c);
    Array::build(x.shape(), |out| {
        let mut lane = vec![T::zero(); len];
        let mut result = vec![T::zero(); len];
        for o in 0..outer {
            for i in 0..inner {
                for (k, l) in lane.iter_mut().enumerate() {
                    *l = src[(o * len + k) * inner + i];
                }
                f(&lane, &mut result);
                for (k, &r) in result.iter().enumerate() {
                    out[(o * len + k) * inner + i] = r;
                }
            }
        }
    })
}

/// Cumulative product along `dim`, accumulated in f64 like `cumsum`.
pub(crate) fn cumprod<T: Float>(x: &Array<T>, dim: usize) -> Array<T> {
    map_lanes(x, dim, |lane, out| {
        let mut acc = 1.0f64;
        for (o, &v) in out.iter_mut().zip(lane) {
            acc *= v.to_f64().unwrap_or(f64::NAN);
            *o = T::from(acc).unwrap_or_else(T::nan);
        }
    })
}

/// `cumprod`'s gradient, exact when the input has zeros: with `y = cumprod(x)`,
/// `dx_i = (x_0 ⋯ x_{i-1}) · s_i` where `s_i = g_i + x_{i+1} s_{i+1}` (from the end).
pub(crate) fn cumprod_grad<T: Float>(g: &Array<T>, x: &Array<T>, dim: usize) -> Array<T> {
    let gc = contiguous(g);
    let gd = dense(&gc).to_vec();
    let (outer, len, inner) = lanes(x.shape(), dim);
    let mut lane_no = 0;
    map_lanes(x, dim, |lane, out| {
        let (o, i) = (lane_no / inner.max(1), lane_no % inner.max(1));
        lane_no += 1;
        let gl = |k: usize| gd[(o * len + k) * inner + i];
        let mut s = T::zero();
        for k in (0..len).rev() {
            s = if k + 1 < len {
                gl(k) + lane[k + 1] * s
            } else {
                gl(k)
            };
            out[k] = s;
        }
        let mut prefix = T::one();
        for k in 0..len {
            out[k] = prefix * out[k];
            prefix = prefix * lane[k];
        }
        let _ = outer;
    })
}

/// The product of each lane along `dim` but the element itself, exact with zeros (from
/// products before and after it): `prod`'s gradient is `g` times this.
pub(crate) fn prod_others<T: Float>(x: &Array<T>, dim: usize) -> Array<T> {
    map_lanes(x, dim, |lane, out| {
        let mut prefix = T::one();
        for (o, &v) in out.iter_mut().zip(lane) {
            *o = prefix;
            prefix = prefix * v;
        }
        let mut suffix = T::one();
        for (o, &v) in out.iter_mut().zip(lane).rev() {
            *o = *o * suffix;
            suffix = suffix * v;
        }
    })
}

/// Reduces each lane along `dim` with `f` (lanes gathered into a buffer).
pub(crate) fn reduce_lanes<T: Float>(
    x: &Array<T>,
    dim: usize,
    keepdim: bool,
    f: impl Fn(&[T]) -> T,
) -> Array<T> {
    let (outer, len, inner) = lanes(x.shape(), dim);
    let c = contiguous(x);
    let src = dense(&c);
    Array::build(
        &crate::shape::reduced_shape(x.shape(), dim, keepdim),
        |out| {
            let mut lane = vec![T::zero(); len];
            for o in 0..outer {
                for i in 0..inner {
                    for (k, l) in lane.iter_mut().enumerate() {
                        *l = src[(o * len + k) * inner + i];
                    }
                    out[o * inner + i] = f(&lane);
                }
            }
        },
    )
}
