//! The explicit AVX-512 forms of the vector functions ([`Fun::at_avx512`]) and the loop
//! that runs them: eight vectors of sixteen at a time. Each but `log` and `tanh` gives its
//! compiled form's bits, input for input (`tests.rs`).

use super::gelu::{DENOMINATOR, NEAR, NUMERATOR};
use super::{map_with, Fun, EXP_POLY, LN2_HI, LN2_LO, LOG2E};
use std::arch::x86_64::*;
use std::mem::MaybeUninit;

/// [`super::map`] (`STREAM` false) or [`super::map_streaming`] (true) through
/// [`Fun::at_avx512`]: eight vectors of sixteen at a time, and the ends (fewer than 128
/// elements, and with `STREAM` the elements before `dst`'s first 64-byte boundary)
/// through [`part`], so every element gets the same bits wherever it sits. Eight, because the compiler's own loop interleaves four: with four
/// cycles of latency per multiply-add, four chains keep one of the two AVX-512 units
/// busy, eight keep both (`exp` on 64 Ki f32 in cache, 2-core Xeon: 0.29-0.34 ns an
/// element compiled, 0.23-0.25 with eight). Streamed, the results go straight from the
/// registers to memory with non-temporal stores.
#[target_feature(enable = "avx512f,avx2,fma")]
pub(super) unsafe fn map<F: Fun, const STREAM: bool>(
    f: F,
    src: &[f32],
    dst: &mut [MaybeUninit<f32>],
) {
    let head = if STREAM {
        dst.as_ptr().align_offset(64).min(dst.len())
    } else {
        0
    };
    // SAFETY (both `part` calls): `src` and `dst` have the same length (the caller's
    // promise), the pieces are at most 128 long, and the CPU has AVX-512F (this
    // function's).
    unsafe { part(f, &src[..head], &mut dst[..head]) };
    let (src, dst) = (&src[head..], &mut dst[head..]);
    let whole = src.len() / 128 * 128;
    for (s, d) in src[..whole]
        .chunks_exact(128)
        .zip(dst[..whole].chunks_exact_mut(128))
    {
        // SAFETY: `s` and `d` hold 128 f32 each, so each 16 from `16 j` lie inside; with
        // `STREAM`, `d` starts on a 64-byte boundary (`head`) and 128 f32 are 512 bytes,
        // so every streamed store is aligned; the CPU has AVX-512F (this function's
        // promise).
        unsafe {
            // (Loops, not closures: a closure is a function of its own, compiled without
            // this one's features, and each intrinsic in it would become a call.)
            let mut x = [_mm512_setzero_ps(); 8];
            for (j, x) in x.iter_mut().enumerate() {
                *x = _mm512_loadu_ps(s.as_ptr().add(16 * j));
            }
            for (j, y) in f.at_avx512(x).into_iter().enumerate() {
                let to = d.as_mut_ptr().add(16 * j).cast();
                if STREAM {
                    _mm512_stream_ps(to, y);
                } else {
                    _mm512_storeu_ps(to, y);
                }
            }
        }
    }
    unsafe { part(f, &src[whole..], &mut dst[whole..]) };
    if STREAM {
        // Non-temporal stores are weakly ordered: fence them before whoever reads the
        // buffer next (another thread, once this piece's task is joined) may look.
        // (A safe call in this function on newer toolchains; the MSRV needs the block.)
        // SAFETY: SSE is part of x86_64's baseline.
        #[allow(unused_unsafe)]
        unsafe {
            _mm_sfence()
        };
    }
}

/// [`Fun::at_avx512`] on fewer than 128 elements: masked loads (zeros beyond the end)
/// and masked stores (nothing written beyond it). A function whose explicit form gives
/// the compiled loop's bits takes the compiled loop instead: a few elements (a small
/// tensor, or a row's end) then cost a few lanes, not eight vectors.
///
/// # Safety
/// `src` and `dst` have the same length, at most 128, and the CPU has AVX-512F.
#[inline(always)]
unsafe fn part<F: Fun>(f: F, src: &[f32], dst: &mut [MaybeUninit<f32>]) {
    if !F::AVX512_OWN_BITS {
        return map_with::<F, true>(f, src, dst);
    }
    if src.is_empty() {
        return;
    }
    let mask = |j: usize| -> __mmask16 {
        let n = src.len().saturating_sub(16 * j).min(16);
        ((1u32 << n) - 1) as __mmask16
    };
    // SAFETY: a masked load or store touches only the lanes its mask names, which lie
    // inside the slices (`mask`); the offsets `16 j` are taken only where the mask is
    // not empty, so they stay inside the slices too; the CPU has AVX-512F (the
    // caller's promise).
    unsafe {
        let mut x = [_mm512_setzero_ps(); 8];
        for (j, x) in x.iter_mut().enumerate() {
            if mask(j) != 0 {
                *x = _mm512_maskz_loadu_ps(mask(j), src.as_ptr().add(16 * j));
            }
        }
        for (j, y) in f.at_avx512(x).into_iter().enumerate() {
            if mask(j) != 0 {
                _mm512_mask_storeu_ps(dst.as_mut_ptr().add(16 * j).cast(), mask(j), y);
            }
        }
    }
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
        let q = expm1_reduced(r);
        let mut e = [c(0.0); 8];
        for j in 0..8 {
            e[j] = _mm512_scalef_ps(_mm512_add_ps(q[j], c(1.0)), n[j]);
        }
        e
    }
}

/// `e^r - 1` of `N` vectors of reduced arguments (`|r| <= ln2/2`), as
/// [`super::scaled_exp`] takes it: `r + r² P(r)` with Cephes' polynomial, the `N` chains
/// interleaved. [`exp`], [`tanh`] and [`gelu`] finish it each their own way.
///
/// # Safety
/// The CPU has AVX-512F.
#[inline(always)]
unsafe fn expm1_reduced<const N: usize>(r: [__m512; N]) -> [__m512; N] {
    // SAFETY: the CPU has AVX-512F (the caller's promise); nothing here touches memory.
    unsafe {
        let mut p = [c(EXP_POLY[0]); N];
        for &k in &EXP_POLY[1..] {
            for j in 0..N {
                p[j] = _mm512_fmadd_ps(p[j], r[j], c(k));
            }
        }
        let mut q = [c(0.0); N];
        for j in 0..N {
            q[j] = _mm512_fmadd_ps(p[j], _mm512_mul_ps(r[j], r[j]), r[j]);
        }
        q
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

/// Where [`log`]'s table starts: `x = 2^k z` with `z` in [0.796875, 1.59375), split in
/// sixteen intervals of equal width in the bits, the one around 1 ([0.984375, 1.03125))
/// reduced by `c = 1` exactly.
pub(super) const LOG_OFFSET: i32 = 0x3f4c_0000;
/// `1/c` rounded, for the interval `i` (bits 19 to 22 of `x - LOG_OFFSET`'s bits): `c`
/// its middle, or 1 (`benches/python/log_table.py` gives all three tables).
pub(super) const LOG_INVERSE: [f32; 16] = [
    1.2307693, 1.1851852, 1.1428572, 1.1034483, 1.0666667, 1.032258, 1.0, 0.9411765, 0.8888889,
    0.84210527, 0.8, 0.7619048, 0.72727275, 0.6956522, 0.6666667, 0.64,
];
/// `-ln(LOG_INVERSE[i])` in two parts: the first a multiple of 2^-12 (so `k ln2_hi` plus
/// it is exact, with `ln2_hi`'s nine bits and `|k| <= 150`), the second the rest.
pub(super) const LOG_HEAD: [f32; 16] = [
    -0.20751953,
    -0.16992188,
    -0.13354492,
    -0.09838867,
    -0.064453125,
    -0.03173828,
    0.0,
    0.060546875,
    0.11767578,
    0.171875,
    0.22314453,
    0.27197266,
    0.31835938,
    0.36279297,
    0.40551758,
    0.44628906,
];
pub(super) const LOG_TAIL: [f32; 16] = [
    -1.1987078e-4,
    2.2830754e-5,
    1.3484547e-5,
    -5.139721e-5,
    -8.544829e-5,
    -1.0387263e-5,
    -0.0,
    7.774309e-5,
    1.0724695e-4,
    -2.4750523e-5,
    -9.948369e-7,
    -3.895939e-5,
    9.4326315e-5,
    1.1250631e-4,
    -5.2499818e-5,
    -1.9375198e-6,
];

/// `ln x` of eight vectors, by a table (Tang's method, as glibc's `logf`, in f32): `x = 2^k
/// z`, `ln x = k ln2 + ln c + ln(1 + r)` with `r = z/c - 1` rounded once (a fused
/// multiply-add by the tabled `1/c`), `|r| <= 1/32`, and `ln(1 + r)` its Taylor series to
/// `r^5` (the next term is below 2^-27 of `r`). The tables are 16 entries, one register
/// each, read by `vpermps`. Where the compiled form's degree-8 polynomial takes 22
/// instructions, this takes 17 (0.29 against 0.25 ns an element on 64 Ki f32 in cache,
/// 2-core Xeon). Its bits are its own, not the compiled form's; its errors are tested the
/// same way, and it serves every element on a CPU with AVX-512, the ends of a slice
/// included ([`map`]). Subnormal lanes are scaled by 2^23 first; zero, negative,
/// infinite and NaN lanes are rare: a test of the eight vectors sends them to the
/// compiled form's answers.
///
/// # Safety
/// The CPU has AVX-512F.
#[inline(always)]
pub(super) unsafe fn log(x: [__m512; 8]) -> [__m512; 8] {
    // SAFETY: the CPU has AVX-512F (the caller's promise); nothing here touches memory.
    unsafe {
        let mut ordinary = 0xffff;
        for v in x {
            // A positive normal number (false for NaN).
            let above = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(v, c(f32::MIN_POSITIVE));
            ordinary &= _mm512_mask_cmp_ps_mask::<_CMP_LT_OQ>(above, v, c(f32::INFINITY));
        }
        if ordinary == 0xffff {
            log_table::<false>(x)
        } else {
            let mut out = log_table::<true>(x);
            for (out, x) in out.iter_mut().zip(x) {
                let infinite = _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(x, c(f32::INFINITY));
                *out = _mm512_mask_mov_ps(*out, infinite, x);
                let zero = _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(x, c(0.0));
                *out = _mm512_mask_mov_ps(*out, zero, c(f32::NEG_INFINITY));
                // Below 0 or NaN: not `x >= 0`.
                let defined = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(x, c(0.0));
                *out = _mm512_mask_mov_ps(c(f32::NAN), defined, *out);
            }
            out
        }
    }
}

/// [`log`]'s table method, right for every positive normal `x`, and with `SUBNORMAL` for
/// positive subnormal `x` too.
///
/// # Safety
/// The CPU has AVX-512F.
#[inline(always)]
unsafe fn log_table<const SUBNORMAL: bool>(x: [__m512; 8]) -> [__m512; 8] {
    // SAFETY: the CPU has AVX-512F (the caller's promise); the loads read the 16-entry
    // tables whole.
    unsafe {
        let inverse = _mm512_loadu_ps(LOG_INVERSE.as_ptr());
        let head = _mm512_loadu_ps(LOG_HEAD.as_ptr());
        let tail = _mm512_loadu_ps(LOG_TAIL.as_ptr());
        let mut r = [c(0.0); 8];
        let mut big = [c(0.0); 8];
        let mut small = [c(0.0); 8];
        for j in 0..8 {
            let (v, k0) = if SUBNORMAL {
                let tiny = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(x[j], c(f32::MIN_POSITIVE));
                (
                    _mm512_mask_mul_ps(x[j], tiny, x[j], c(8_388_608.0)),
                    _mm512_maskz_mov_ps(tiny, c(-23.0)),
                )
            } else {
                (x[j], c(0.0))
            };
            let bits = _mm512_castps_si512(v);
            let t = _mm512_sub_epi32(bits, _mm512_set1_epi32(LOG_OFFSET));
            let k = _mm512_cvtepi32_ps(_mm512_srai_epi32::<23>(t));
            let k = if SUBNORMAL { _mm512_add_ps(k, k0) } else { k };
            // z = x 2^-k, in [0.796875, 1.59375).
            let z = _mm512_castsi512_ps(_mm512_sub_epi32(
                bits,
                _mm512_and_si512(t, _mm512_set1_epi32(0xff80_0000_u32 as i32)),
            ));
            // vpermps reads the low four bits of each index.
            let i = _mm512_srli_epi32::<19>(t);
            r[j] = _mm512_fmadd_ps(z, _mm512_permutexvar_ps(i, inverse), c(-1.0));
            big[j] = _mm512_fmadd_ps(k, c(LN2_HI), _mm512_permutexvar_ps(i, head));
            small[j] = _mm512_fmadd_ps(k, c(LN2_LO), _mm512_permutexvar_ps(i, tail));
        }
        let mut out = [c(0.0); 8];
        for j in 0..8 {
            // ln(1 + r) - r = r² (-1/2 + r (1/3 + r (-1/4 + r/5))).
            let r2 = _mm512_mul_ps(r[j], r[j]);
            let p = _mm512_fmadd_ps(c(-0.25), r[j], c(1.0 / 3.0));
            let p = _mm512_fmadd_ps(c(0.2), r2, p);
            let p = _mm512_fmadd_ps(p, r[j], c(-0.5));
            let y = _mm512_fmadd_ps(p, r2, small[j]);
            out[j] = _mm512_add_ps(big[j], _mm512_add_ps(r[j], y));
        }
        out
    }
}

/// `tanh` of eight vectors, one path for every `x`: `tanh |x| = E / (E + 2)` with `E =
/// e^(2|x|) - 1`, then `x`'s sign. `E` is [`expm1_reduced`] scaled back, `2^n q + (2^n -
/// 1)` (exact for `n <= 24`; `n >= 0` always, so no cancellation), which keeps its
/// relative accuracy down to the smallest subnormal, where the compiled form needs a
/// second, polynomial path below 0.625. The quotient takes `vrcp14ps` and one correction
/// step instead of `vdivps` (whose 16 lanes hold the divider ten cycles). `2|x|` is capped
/// at 18.2 (`tanh` is 1 in f32 from 9.01), a NaN passing. 23 instructions a vector where
/// the compiled form's two paths take 33 (0.30 against 0.43 ns an element on 64 Ki f32 in
/// cache, 2-core Xeon). Its bits are its own, not the compiled form's, and it serves every
/// element ([`map`]); its errors are tested the same way (2 ulp at most, against 1).
///
/// # Safety
/// The CPU has AVX-512F.
#[inline(always)]
pub(super) unsafe fn tanh(x: [__m512; 8]) -> [__m512; 8] {
    // 1.5 2^23 + 127: `t log2(e) + MAGIC` rounds `n = round(t log2(e))` into the low bits,
    // offset by 127, so shifted to the exponent field they are 2^n.
    const MAGIC: f32 = 12_582_912.0 + 127.0;
    // SAFETY: the CPU has AVX-512F (the caller's promise); nothing here touches memory.
    unsafe {
        let mut scale = [c(0.0); 8];
        let mut r = [c(0.0); 8];
        for j in 0..8 {
            let a = _mm512_abs_ps(x[j]);
            // `a` second, so a NaN passes.
            let t = _mm512_min_ps(c(18.2), _mm512_add_ps(a, a));
            let m = _mm512_fmadd_ps(t, c(LOG2E), c(MAGIC));
            scale[j] = _mm512_castsi512_ps(_mm512_slli_epi32::<23>(_mm512_castps_si512(m)));
            // One constant for ln 2 is enough here: its error, 1.9e-9 n in `r`, makes at
            // most a tenth of an ulp of `tanh` (at n = 1), less beyond (E grows faster).
            let n = _mm512_sub_ps(m, c(MAGIC));
            r[j] = _mm512_fmadd_ps(n, c(-std::f32::consts::LN_2), t);
        }
        let q = expm1_reduced(r);
        let mut out = [c(0.0); 8];
        for j in 0..8 {
            let e = _mm512_fmadd_ps(q[j], scale[j], _mm512_sub_ps(scale[j], c(1.0)));
            let d = _mm512_add_ps(e, c(2.0));
            let inverse = _mm512_rcp14_ps(d);
            let y = _mm512_mul_ps(e, inverse);
            // The residual E - (E + 2) y, without `d`'s rounding: (E - 2y) - E y.
            let residual = _mm512_fnmadd_ps(e, y, _mm512_fnmadd_ps(c(2.0), y, e));
            let y = _mm512_fmadd_ps(residual, inverse, y);
            // copysign, as one bitwise select: the sign bit from `x`, the rest from `y`
            // (0xca: where the first operand has a 1, the second, else the third).
            out[j] = _mm512_castsi512_ps(_mm512_ternarylogic_epi32::<0xca>(
                _mm512_set1_epi32(i32::MIN),
                _mm512_castps_si512(x[j]),
                _mm512_castps_si512(y),
            ));
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

/// GELU of eight vectors, lane by lane the same bits as [`super::Gelu`]'s `at`: where all
/// 128 lie in its core range (`|x| <= 5`, all but one in a million normal samples), its
/// core path step for step (Mills' ratio `P/Q`, `-x²/2` as a product and its error, the
/// exponential with `x M` applied before `2^n`, then `x - x Φ(-x)` above 0); any other
/// block goes through the compiled form's wide path, lane by lane.
///
/// # Safety
/// The CPU has AVX-512F.
#[inline(always)]
pub(super) unsafe fn gelu(x: [__m512; 8]) -> [__m512; 8] {
    // SAFETY: the CPU has AVX-512F (the caller's promise); the stores and loads stay
    // inside the 128-element arrays.
    unsafe {
        let mut core = 0xffff;
        for v in x {
            core &= _mm512_cmp_ps_mask::<_CMP_LE_OQ>(_mm512_abs_ps(v), c(NEAR));
        }
        if core != 0xffff {
            let mut values = [0.0f32; 128];
            for (j, v) in x.iter().enumerate() {
                _mm512_storeu_ps(values.as_mut_ptr().add(16 * j), *v);
            }
            for v in &mut values {
                *v = super::Gelu.at::<true, true>(*v);
            }
            let mut out = [c(0.0); 8];
            for (j, out) in out.iter_mut().enumerate() {
                *out = _mm512_loadu_ps(values.as_ptr().add(16 * j));
            }
            return out;
        }
        let [x0, x1, x2, x3, x4, x5, x6, x7] = x;
        let [y0, y1, y2, y3] = gelu_core([x0, x1, x2, x3]);
        let [y4, y5, y6, y7] = gelu_core([x4, x5, x6, x7]);
        [y0, y1, y2, y3, y4, y5, y6, y7]
    }
}

/// [`gelu`]'s core path on four vectors (eight would hold 40 vectors live through the
/// exponential's polynomial, more than the 32 registers, and spill to the stack).
///
/// # Safety
/// The CPU has AVX-512F.
#[inline(always)]
unsafe fn gelu_core(x: [__m512; 4]) -> [__m512; 4] {
    // SAFETY: the CPU has AVX-512F (the caller's promise); nothing here touches memory.
    unsafe {
        let mut mills = [c(0.0); 4];
        for j in 0..4 {
            let y = _mm512_abs_ps(x[j]);
            let mut p = c(NUMERATOR[0]);
            let mut q = c(DENOMINATOR[0]);
            for k in 1..5 {
                p = _mm512_fmadd_ps(p, y, c(NUMERATOR[k]));
                q = _mm512_fmadd_ps(q, y, c(DENOMINATOR[k]));
            }
            mills[j] = _mm512_div_ps(p, q);
        }
        let mut n = [c(0.0); 4];
        let mut r = [c(0.0); 4];
        for j in 0..4 {
            let y = _mm512_abs_ps(x[j]);
            let half = _mm512_mul_ps(c(-0.5), y);
            let hi = _mm512_mul_ps(half, y);
            let lo = _mm512_fmsub_ps(half, y, hi);
            n[j] = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(
                _mm512_mul_ps(_mm512_add_ps(hi, lo), c(LOG2E)),
            );
            let reduced = _mm512_fmadd_ps(n[j], c(-LN2_HI), hi);
            r[j] = _mm512_add_ps(_mm512_fmadd_ps(n[j], c(-LN2_LO), reduced), lo);
        }
        let q = expm1_reduced(r);
        let mut out = [c(0.0); 4];
        for j in 0..4 {
            let k = _mm512_mul_ps(x[j], mills[j]);
            let scaled = _mm512_scalef_ps(_mm512_fmadd_ps(q[j], k, k), n[j]);
            let positive = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(x[j], c(0.0));
            out[j] = _mm512_mask_sub_ps(scaled, positive, x[j], scaled);
        }
        out
    }
}
