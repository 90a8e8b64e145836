//! The floor under tapegrad's add with a transposed operand: the same walk written bare,
//! with no tensor, no allocation and no dispatch, into one output buffer used again and
//! again. `out = xᵀ + y` for `n` × `n` f32 goes in bands of 8 rows, each 8 × 8 block of
//! `x` transposed in AVX registers, as tapegrad's register path does; `out = x + y` is the
//! contiguous add beside it. On one thread the ratio of the two is what the machine's
//! memory makes of a transposed read: every other walk tried measured the same or slower
//! (tiles of 16 to 64, prefetches 2 to 16 blocks ahead, 2 MB pages, a transposed copy then
//! a contiguous add; BENCHMARKS.md, "Speed II, ninth part"). The shuffles are those of
//! `transpose8` in src/array/tiles.rs, written again here on purpose: the floor shares no
//! code with what it measures, and tapegrad's own kernels are private to it.

/// `out[k] = x[k] + y[k]`.
pub fn add(x: &[f32], y: &[f32], out: &mut [f32]) {
    assert!(x.len() == out.len() && y.len() == out.len());
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above).
        return unsafe { add_avx2(x, y, out) };
    }
    add_each(x, y, out)
}

#[inline(always)]
fn add_each(x: &[f32], y: &[f32], out: &mut [f32]) {
    for ((o, &a), &b) in out.iter_mut().zip(x).zip(y) {
        *o = a + b;
    }
}

/// [`add_each`] compiled for AVX2 (8 lanes).
///
/// # Safety
/// The CPU has AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn add_avx2(x: &[f32], y: &[f32], out: &mut [f32]) {
    add_each(x, y, out)
}

/// `out[i * n + j] = x[j * n + i] + y[i * n + j]`: `x` read transposed.
pub fn add_transposed(x: &[f32], y: &[f32], out: &mut [f32], n: usize) {
    assert!(x.len() == n * n && y.len() == n * n && out.len() == n * n);
    #[cfg(target_arch = "x86_64")]
    if n.is_multiple_of(8) && std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above); the lengths are n², n a
        // multiple of 8 (checked above), so every block lies inside the buffers.
        return unsafe { add_transposed_avx2(x, y, out, n) };
    }
    for i in 0..n {
        for j in 0..n {
            out[i * n + j] = x[j * n + i] + y[i * n + j];
        }
    }
}

/// [`add_transposed`] in bands of 8 rows, 8 × 8 blocks transposed in registers.
///
/// # Safety
/// The CPU has AVX2; the buffers hold `n * n` values and `n` is a multiple of 8.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn add_transposed_avx2(x: &[f32], y: &[f32], out: &mut [f32], n: usize) {
    use std::arch::x86_64::*;
    let (x, y, out) = (x.as_ptr(), y.as_ptr(), out.as_mut_ptr());
    // SAFETY (the whole body): block (i0, j0) reads x[i0 + k + (j0 + l) * n] and
    // y[(i0 + k) * n + j0 + l] and writes out at the latter, k, l < 8, i0 + 8 and
    // j0 + 8 at most n: inside the n² values.
    unsafe {
        for i0 in (0..n).step_by(8) {
            for j0 in (0..n).step_by(8) {
                let r = |l: usize| _mm256_loadu_ps(x.add(i0 + (j0 + l) * n));
                let (r0, r1, r2, r3) = (r(0), r(1), r(2), r(3));
                let (r4, r5, r6, r7) = (r(4), r(5), r(6), r(7));
                let (t0, t1) = (_mm256_unpacklo_ps(r0, r1), _mm256_unpackhi_ps(r0, r1));
                let (t2, t3) = (_mm256_unpacklo_ps(r2, r3), _mm256_unpackhi_ps(r2, r3));
                let (t4, t5) = (_mm256_unpacklo_ps(r4, r5), _mm256_unpackhi_ps(r4, r5));
                let (t6, t7) = (_mm256_unpacklo_ps(r6, r7), _mm256_unpackhi_ps(r6, r7));
                // Pairs of pairs: the low and the high halves of two 128-bit lanes.
                let halves = |a, b| {
                    (
                        _mm256_shuffle_ps::<0x44>(a, b),
                        _mm256_shuffle_ps::<0xee>(a, b),
                    )
                };
                let ((u0, u1), (u2, u3)) = (halves(t0, t2), halves(t1, t3));
                let ((u4, u5), (u6, u7)) = (halves(t4, t6), halves(t5, t7));
                let rows = [
                    _mm256_permute2f128_ps::<0x20>(u0, u4),
                    _mm256_permute2f128_ps::<0x20>(u1, u5),
                    _mm256_permute2f128_ps::<0x20>(u2, u6),
                    _mm256_permute2f128_ps::<0x20>(u3, u7),
                    _mm256_permute2f128_ps::<0x31>(u0, u4),
                    _mm256_permute2f128_ps::<0x31>(u1, u5),
                    _mm256_permute2f128_ps::<0x31>(u2, u6),
                    _mm256_permute2f128_ps::<0x31>(u3, u7),
                ];
                for (k, row) in rows.into_iter().enumerate() {
                    let at = (i0 + k) * n + j0;
                    let sum = _mm256_add_ps(row, _mm256_loadu_ps(y.add(at)));
                    _mm256_storeu_ps(out.add(at), sum);
                }
            }
        }
    }
}
