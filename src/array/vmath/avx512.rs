//! The explicit AVX-512 forms of the vector functions ([`Fun::at_avx512`]) and the loop
//! that runs them: eight vectors of sixteen at a time. Each gives its compiled form's
//! bits, input for input (`tests.rs`).

use super::{map_with, Fun, EXP_POLY, LN2_HI, LN2_LO, LOG2E, TANH_POLY};
use std::arch::x86_64::*;
use std::mem::MaybeUninit;

/// [`super::map`] through [`Fun::at_avx512`]: eight vectors of sixteen at a time, the
/// tail of fewer than 128 through the compiled loop (the same bits). Eight, because the
/// compiler's own loop interleaves four: with four cycles of latency per multiply-add,
/// four chains keep one of the two AVX-512 units busy, eight keep both (`exp` on 64 Ki
/// f32 in cache, 2-core Xeon: 0.29-0.34 ns an element compiled, 0.23-0.25 with eight).
#[target_feature(enable = "avx512f,avx2,fma")]
pub(super) unsafe fn map<F: Fun>(f: F, src: &[f32], dst: &mut [MaybeUninit<f32>]) {
    let whole = src.len() / 128 * 128;
    for (s, d) in src[..whole]
        .chunks_exact(128)
        .zip(dst[..whole].chunks_exact_mut(128))
    {
        // SAFETY: `s` and `d` hold 128 f32 each, so each 16 from `16 j` lie inside; the
        // CPU has AVX-512F (this function's promise).
        unsafe {
            // (Loops, not closures: a closure is a function of its own, compiled without
            // this one's features, and each intrinsic in it would become a call.)
            let mut x = [_mm512_setzero_ps(); 8];
            for (j, x) in x.iter_mut().enumerate() {
                *x = _mm512_loadu_ps(s.as_ptr().add(16 * j));
            }
            for (j, y) in f.at_avx512(x).into_iter().enumerate() {
                _mm512_storeu_ps(d.as_mut_ptr().add(16 * j).cast(), y);
            }
        }
    }
    map_with::<F, true>(f, &src[whole..], &mut dst[whole..]);
}

/// `v` in all sixteen lanes (inlined into the AVX-512 code that calls it).
#[inline(always)]
fn c(v: f32) -> __m512 {
    // SAFETY: only called from functions compiled with AVX-512F (the intrinsic is inlined
    // there, and runs only on such a CPU).
    unsafe { _mm512_set1_ps(v) }
}

/// `e^x` of eight vectors, lane by lane the same bits as [`super::scaled_exp`] with
/// `lo = -0.0` and `k = 1` on either path: the same clamps (`vmaxps`/`vminps` with `x` second, so a
/// NaN passes through), `n` rounded to nearest even (`vrndscaleps`, as `round_small`),
/// the same reduction and polynomial, and `2^n` applied by `vscalefps`, which rounds
/// `e · 2^n` once, as the wide path's two exact-then-rounded factors do and as the narrow
/// path's exponent add is exact where it is used.
///
/// # Safety
/// The CPU has AVX-512F.
#[inline(always)]
pub(super) unsafe fn exp(x: [__m512; 8]) -> [__m512; 8] {
    // SAFETY: the CPU has AVX-512F (the caller's promise); nothing here touches memory.
    unsafe {
        let mut n = [c(0.0); 8];
        let mut r = [c(0.0); 8];
        for j in 0..8 {
            let xj = _mm512_min_ps(c(88.8), _mm512_max_ps(c(-104.0), x[j]));
            n[j] = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(
                _mm512_mul_ps(xj, c(LOG2E)),
            );
            r[j] = _mm512_fmadd_ps(n[j], c(-LN2_HI), xj);
        }
        for j in 0..8 {
            r[j] = _mm512_fmadd_ps(n[j], c(-LN2_LO), r[j]);
        }
        let mut p = [c(EXP_POLY[0]); 8];
        for &k in &EXP_POLY[1..] {
            for j in 0..8 {
                p[j] = _mm512_fmadd_ps(p[j], r[j], c(k));
            }
        }
        let mut e = [c(0.0); 8];
        for j in 0..8 {
            let q = _mm512_fmadd_ps(p[j], _mm512_mul_ps(r[j], r[j]), r[j]);
            e[j] = _mm512_scalef_ps(_mm512_add_ps(q, c(1.0)), n[j]);
        }
        e
    }
}

/// `e^(x - shift)` of eight vectors: [`super::ExpShifted`]'s `at`, the subtraction first.
///
/// # Safety
/// The CPU has AVX-512F.
#[inline(always)]
pub(super) unsafe fn exp_shifted(x: [__m512; 8], shift: f32) -> [__m512; 8] {
    let mut x = x;
    for v in &mut x {
        // SAFETY: the CPU has AVX-512F (the caller's promise).
        *v = unsafe { _mm512_sub_ps(*v, c(shift)) };
    }
    // SAFETY: as above.
    unsafe { exp(x) }
}

/// `tanh` of eight vectors: [`super::Tanh`]'s `at`, step for step: both forms, then the
/// select (NaN takes the second, as there).
///
/// # Safety
/// The CPU has AVX-512F.
#[inline(always)]
pub(super) unsafe fn tanh(x: [__m512; 8]) -> [__m512; 8] {
    // SAFETY: the CPU has AVX-512F (the caller's promise); nothing here touches memory.
    unsafe {
        let mut a = [c(0.0); 8];
        let mut small = [c(0.0); 8];
        for j in 0..8 {
            a[j] = _mm512_abs_ps(x[j]);
            let z = _mm512_mul_ps(x[j], x[j]);
            let mut p = c(TANH_POLY[0]);
            for &k in &TANH_POLY[1..] {
                p = _mm512_fmadd_ps(p, z, c(k));
            }
            small[j] = _mm512_fmadd_ps(_mm512_mul_ps(p, z), x[j], x[j]);
        }
        let mut twice = [c(0.0); 8];
        for j in 0..8 {
            // `if a > 9.1 { 9.1 } else { a }`: `a` second, so a NaN passes.
            let capped = _mm512_min_ps(c(9.1), a[j]);
            twice[j] = _mm512_add_ps(capped, capped);
        }
        let e = exp(twice);
        let mut out = [c(0.0); 8];
        for j in 0..8 {
            let large = _mm512_sub_ps(c(1.0), _mm512_div_ps(c(2.0), _mm512_add_ps(e[j], c(1.0))));
            // copysign: `large` is never negative (NaN aside, which keeps its sign
            // bit here as `copysign` replaces it: both give a NaN).
            let sign = _mm512_and_si512(_mm512_castps_si512(x[j]), _mm512_set1_epi32(i32::MIN));
            let large = _mm512_castsi512_ps(_mm512_or_si512(
                _mm512_andnot_si512(_mm512_set1_epi32(i32::MIN), _mm512_castps_si512(large)),
                sign,
            ));
            let near_zero = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(a[j], c(0.625));
            out[j] = _mm512_mask_blend_ps(near_zero, large, small[j]);
        }
        out
    }
}

/// The logistic function of eight vectors: [`super::Sigmoid`]'s `at`, step for step (a
/// NaN fails `x >= 0` and takes `e`, as there).
///
/// # Safety
/// The CPU has AVX-512F.
#[inline(always)]
pub(super) unsafe fn sigmoid(x: [__m512; 8]) -> [__m512; 8] {
    // SAFETY: the CPU has AVX-512F (the caller's promise); nothing here touches memory.
    unsafe {
        let mut minus = [c(0.0); 8];
        for j in 0..8 {
            // -|x|: the sign bit set.
            minus[j] = _mm512_castsi512_ps(_mm512_or_si512(
                _mm512_castps_si512(x[j]),
                _mm512_set1_epi32(i32::MIN),
            ));
        }
        let e = exp(minus);
        let mut out = [c(0.0); 8];
        for j in 0..8 {
            let positive = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(x[j], c(0.0));
            let numerator = _mm512_mask_blend_ps(positive, e[j], c(1.0));
            out[j] = _mm512_div_ps(numerator, _mm512_add_ps(c(1.0), e[j]));
        }
        out
    }
}
