//! Vectorised f32 math: `exp`, `log`, `tanh`, `sigmoid`, `softplus`, `gelu` and `gelu`'s
//! derivative, as branch-free polynomials the compiler turns into SIMD code.
//!
//! Each function is written once, for one `f32`, with selects instead of branches, so a
//! loop over a slice vectorises. The loop is compiled three times: for AVX-512, for AVX2
//! with FMA, and for the baseline target; [`map`] picks one at run time
//! (`is_x86_feature_detected!`, cached by std). The baseline has no fused multiply-add, so
//! the polynomials take the plain `a * b + c` there (`FMA = false`): results can differ in
//! the last bit between machines with and without FMA, never between runs on one machine.
//!
//! Accuracy, measured against the correctly rounded value (f64 libm, rounded) over the
//! whole f32 range, NaN, ±inf and subnormals included: `tests.rs` sweeps every 4099th
//! bit pattern and the edges on every flavour this CPU runs (`TAPEGRAD_ULP_STRIDE=1 cargo
//! test --release --lib vmath` sweeps all 2^32). The errors below were measured with
//! every 7th pattern (`TAPEGRAD_ULP_STRIDE=7`, 7 minutes on 2 cores):
//!
//! | function | max error | method |
//! |---|---|---|
//! | `exp` | 1 ulp | Cephes' `expf`: `2^n e^r`, `|r| <= ln2/2`, degree-6 polynomial; `2^n` in two factors so results down to the smallest subnormal are right |
//! | `log` | 1 ulp | Cephes' `logf`: `m 2^e`, `m` in `[√½, √2)`, degree-8 polynomial in `m - 1`; subnormal inputs scaled by `2^23` first. With AVX-512: `2^k z`, `z` in [0.797, 1.594), `ln z = ln c + ln(1 + r)`, `c` from a 16-entry table, `|r| <= 1/32`, degree-5 Taylor series |
//! | `tanh` | 1 ulp (2 with AVX-512) | Cephes' odd polynomial below 0.625, `1 - 2 / (e^2|x| + 1)` above. With AVX-512: `E / (E + 2)`, `E = e^2|x| - 1` from the reduced exponential without cancellation, the quotient by `vrcp14ps` and one correction |
//! | `sigmoid` | 2 ulp | `1 / (1 + e^-x)` or `e^x / (1 + e^x)`, whichever cannot overflow |
//! | `softplus` | 2 ulp | `max(x, 0) + log1p(e^-|x|)`, `log1p` from `log` with Goldberg's correction |
//! | `gelu` | 5 ulp | `x Φ(x)`; `Φ(-|x|) = e^(-x²/2) M(|x|)`, Mills' ratio `M` a ratio of two degree-4 polynomials up to 5 and `G(1/x²) / |x|` beyond (`benches/python/fit_gelu.py`); `x Φ(x) = x - x Φ(-x)` above 0 |
//! | `gelu`'s derivative | 1 ulp (tested to 4), or 2^-24 near its root at -0.7518 (0.9 · 2^-24 at most, every f32 in [-0.8, -0.7] swept) | the same parts, and a degree-5 fit near 0 |
//!
//! Each loop goes a block of 256 elements at a time: a block whose values all lie in the
//! common range ([`Fun::narrow`]: no NaN, no subnormal or infinite exponential inside)
//! applies `2^n` with one integer add to the exponent bits; any other block takes the wide
//! path, which splits `2^n` in two factors and clamps. A function may also name a core
//! range ([`Fun::core`]) where a cheaper form is exact enough (GELU's `|x| <= 5`, one
//! rational function where the rest of the narrow range needs two). Each path is tested
//! on its own.
//! [`map_streaming`], for results too large for the cache, writes each block out with
//! non-temporal stores: the same bits, a third less memory traffic.
//!
//! On a CPU with AVX-512 the exponentials (`exp`, and the shifted one of softmax and
//! cross-entropy), `log`, `tanh`, `sigmoid` and `gelu` run explicit code instead
//! ([`Fun::at_avx512`], in `avx512.rs`): eight vectors at a time, where the compiler's
//! loop interleaves four and leaves one of the two AVX-512 units idle, over every element
//! of the slice (the ends through masked loads and stores), and with `2^n` applied by
//! `vscalefps`, so no block needs a range test. Each gives the compiled loop's bits,
//! input for input (tested), except `log` and `tanh`, which take cheaper methods with
//! bits of their own. For `log`, a 16-entry table read by `vpermps` (Tang's method)
//! replaces the degree-8 polynomial, with a measured error of 1 ulp too. `tanh` takes
//! one path instead of two and no division, with a measured error of 2 ulp. So on one
//! machine every `log` or `tanh` gives the same bits for the same input, wherever it
//! sits; between machines with and without AVX-512 they can differ in the last bit
//! (`tanh` in the last two). `tanh` starts its quotient from `vrcp14ps`, whose estimate
//! the instruction set bounds (relative error below 2^-14) but does not fix bit for bit,
//! so CPUs of different makers may also differ in its last bit.
//!
//! PyTorch computes GELU as `x/2 (1 + erf(x/√2))`, which loses every digit below about
//! `x = -5` (`1 + erf` cancels); the tail form here keeps its relative accuracy down to the
//! last subnormal.

use std::mem::MaybeUninit;

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64 as x86;

/// A function of one f32, in the flavours the compiled loops need.
pub(crate) trait Fun: Copy + Send + Sync {
    /// The value at `x`. `FMA`: whether `mul_add` is one instruction. `WIDE`: whether `x`
    /// may lie anywhere; without it, only where [`Fun::narrow`] holds, which lets the
    /// exponentials scale by `2^n` with one integer add instead of two multiplies (half
    /// the time of `exp` on the machines measured).
    fn at<const FMA: bool, const WIDE: bool>(self, x: f32) -> f32;
    /// True where `at::<_, false>` is exact: the common range (not NaN, no subnormal or
    /// infinite exponential inside).
    fn narrow(self, x: f32) -> bool;
    /// Whether the function has a core range ([`Fun::core`]): a part of the common range
    /// where a cheaper form ([`Fun::at_core`]) keeps the accuracy.
    const CORE: bool = false;
    /// The value at `x` where [`Fun::core`] holds; the narrow path's value by default.
    #[inline(always)]
    fn at_core<const FMA: bool>(self, x: f32) -> f32 {
        self.at::<FMA, false>(x)
    }
    /// True where `at_core` may be used (implies [`Fun::narrow`]); read only with `CORE`.
    #[inline(always)]
    fn core(self, x: f32) -> bool {
        self.narrow(x)
    }
    /// Whether the function has [`Fun::at_avx512`], an explicit AVX-512 form.
    #[cfg(target_arch = "x86_64")]
    const AVX512: bool = false;
    /// Whether that form's bits differ from `at`'s (then it must serve every element,
    /// the ends of a slice included, so a value's result does not depend on where it
    /// sits; otherwise the ends take the compiled loop, cheaper on a few elements).
    #[cfg(target_arch = "x86_64")]
    const AVX512_OWN_BITS: bool = false;
    /// The values at eight vectors of sixteen, the same bits as `at` gives on every input:
    /// read only with `AVX512`, on a CPU with AVX-512F.
    ///
    /// # Safety
    /// The CPU has AVX-512F.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn at_avx512(self, x: [x86::__m512; 8]) -> [x86::__m512; 8] {
        unreachable!("at_avx512 of a function without AVX512 ({x:?})")
    }
}

/// Blocks of this many elements take the narrow path when all of them allow it (and the
/// core path when all of them allow that).
const BLOCK: usize = 256;

/// `dst[i] = f(src[i])`, through the widest vector unit this CPU has.
pub(crate) fn map<F: Fun>(f: F, src: &[f32], dst: &mut [MaybeUninit<f32>]) {
    dispatch::<F, false>(f, src, dst)
}

/// [`map`] for a destination too large to stay in cache: with AVX, each block is computed
/// into a buffer on the stack and copied out with non-temporal stores, which write whole
/// cache lines to memory without reading them first (an ordinary store reads its line in:
/// a third more memory traffic for an op that reads one buffer and writes another). The
/// same values as [`map`], bit for bit; only where they go through differs.
pub(crate) fn map_streaming<F: Fun>(f: F, src: &[f32], dst: &mut [MaybeUninit<f32>]) {
    dispatch::<F, true>(f, src, dst)
}

/// [`map`] (`STREAM` false) or [`map_streaming`] (true) on this CPU's widest vector unit.
fn dispatch<F: Fun, const STREAM: bool>(f: F, src: &[f32], dst: &mut [MaybeUninit<f32>]) {
    assert_eq!(
        src.len(),
        dst.len(),
        "vmath::map: slices of different lengths"
    );
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked just above).
            return unsafe { map_avx512::<F, STREAM>(f, src, dst) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has AVX2 and FMA (checked just above).
            return unsafe { map_avx2::<F, STREAM>(f, src, dst) };
        }
    }
    map_baseline(f, src, dst)
}

/// The body of [`map_streaming`], inlined into a function compiled with AVX.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn stream_with<F: Fun>(f: F, src: &[f32], dst: &mut [MaybeUninit<f32>]) {
    use std::arch::x86_64::{_mm256_loadu_ps, _mm256_stream_ps, _mm_sfence};
    // Up to the first 32-byte boundary of `dst` (a streaming store needs one), as usual.
    let head = dst.as_ptr().align_offset(32).min(dst.len());
    map_with::<F, true>(f, &src[..head], &mut dst[..head]);
    let (src, dst) = (&src[head..], &mut dst[head..]);
    let whole = src.len() / BLOCK * BLOCK;
    let mut buffer = [MaybeUninit::<f32>::uninit(); BLOCK];
    for (s, d) in src[..whole]
        .chunks_exact(BLOCK)
        .zip(dst[..whole].chunks_exact_mut(BLOCK))
    {
        map_with::<F, true>(f, s, &mut buffer);
        for i in (0..BLOCK).step_by(8) {
            // SAFETY: `buffer` is written whole just above and `d` holds BLOCK elements,
            // so both ranges of 8 lie inside; `d` starts 32-byte aligned (`head`) and
            // BLOCK is a multiple of 8, so every store is aligned.
            unsafe {
                let v = _mm256_loadu_ps(buffer.as_ptr().add(i).cast());
                _mm256_stream_ps(d.as_mut_ptr().add(i).cast(), v);
            }
        }
    }
    map_with::<F, true>(f, &src[whole..], &mut dst[whole..]);
    // Non-temporal stores are weakly ordered: fence them before whoever reads the buffer
    // next (another thread, once this piece's task is joined) may look.
    // SAFETY: SSE is part of x86_64's baseline.
    unsafe { _mm_sfence() };
}

#[inline(always)]
fn map_with<F: Fun, const FMA: bool>(f: F, src: &[f32], dst: &mut [MaybeUninit<f32>]) {
    for (s, d) in src.chunks(BLOCK).zip(dst.chunks_mut(BLOCK)) {
        // (`&`, not `&&`: one vectorised test of the whole block. The core test comes
        // first, so a block inside it is tested once; without `CORE` it compiles away.)
        if F::CORE && s.iter().fold(true, |all, &x| all & f.core(x)) {
            for (d, &x) in d.iter_mut().zip(s) {
                d.write(f.at_core::<FMA>(x));
            }
        } else if s.iter().fold(true, |all, &x| all & f.narrow(x)) {
            for (d, &x) in d.iter_mut().zip(s) {
                d.write(f.at::<FMA, false>(x));
            }
        } else {
            for (d, &x) in d.iter_mut().zip(s) {
                d.write(f.at::<FMA, true>(x));
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn map_avx512<F: Fun, const STREAM: bool>(f: F, src: &[f32], dst: &mut [MaybeUninit<f32>]) {
    if F::AVX512 {
        // SAFETY: this function's features include AVX-512F.
        unsafe { avx512::map::<F, STREAM>(f, src, dst) }
    } else if STREAM {
        // SAFETY: this function's features include AVX, all `stream_with` needs.
        unsafe { stream_with(f, src, dst) }
    } else {
        map_with::<F, true>(f, src, dst)
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn map_avx2<F: Fun, const STREAM: bool>(f: F, src: &[f32], dst: &mut [MaybeUninit<f32>]) {
    if STREAM {
        // SAFETY: this function's features include AVX, all `stream_with` needs.
        unsafe { stream_with(f, src, dst) }
    } else {
        map_with::<F, true>(f, src, dst)
    }
}

fn map_baseline<F: Fun>(f: F, src: &[f32], dst: &mut [MaybeUninit<f32>]) {
    map_with::<F, false>(f, src, dst)
}

/// `a * b + c`, fused where the target has the instruction.
#[inline(always)]
fn mad<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// The polynomial `c[0] x^(n-1) + ... + c[n-1]` by Horner's rule.
#[inline(always)]
fn horner<const FMA: bool, const N: usize>(x: f32, c: [f32; N]) -> f32 {
    let mut acc = c[0];
    for &k in &c[1..] {
        acc = mad::<FMA>(acc, x, k);
    }
    acc
}

/// `x` rounded to the nearest whole number (ties to even), as a float and as an integer,
/// for `|x| < 2^22`: adding 1.5 · 2^23 pushes the fraction out of the mantissa, whose low
/// bits then hold the integer. One add and one subtract on every target, where
/// `round_ties_even` is a library call without SSE4.1 and `as i32` (saturating) keeps the
/// loop from vectorising.
#[inline(always)]
fn round_small(x: f32) -> (f32, i32) {
    const MAGIC: f32 = 12_582_912.0;
    let shifted = x + MAGIC;
    (
        shifted - MAGIC,
        shifted.to_bits() as i32 - MAGIC.to_bits() as i32,
    )
}

/// `2^n` for an integer `-126 <= n <= 127`.
#[inline(always)]
fn pow2(n: i32) -> f32 {
    f32::from_bits(((n + 127) << 23) as u32)
}

const LOG2E: f32 = std::f32::consts::LOG2_E;
/// ln 2 in two parts: `n * LN2_HI` is exact for the `n` here (LN2_HI has 9 bits).
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// Cephes' expf polynomial for `(e^r - 1 - r) / r²`, highest degree first.
const EXP_POLY: [f32; 6] = [
    1.987_569_1e-4,
    1.398_199_9e-3,
    8.333_452e-3,
    4.166_579_6e-2,
    1.666_666_5e-1,
    0.5,
];

/// `e^(hi + lo)` (`lo = -0.0` for a plain `e^hi`: adding -0.0 changes nothing, so the
/// compiler drops it), where `lo` is small beside `hi` or both are small: the reduction
/// subtracts `n ln2` from `hi` alone (exact), so a large `hi` loses none of `lo`'s bits.
#[inline(always)]
fn exp_parts<const FMA: bool, const WIDE: bool>(hi: f32, lo: f32) -> f32 {
    scaled_exp::<FMA, WIDE>(hi, lo, 1.0)
}

/// `k e^(hi + lo)` (as [`exp_parts`]), with `k` applied before the power of two, so a
/// subnormal result is rounded once, not first as `e^(hi + lo)` and again after `· k`.
#[inline(always)]
///
/// Without `WIDE`, `hi + lo` must lie in [-86.5, 88] and `k e^r 2^n` be a normal number
/// (the caller's [`Fun::narrow`] says so): `2^n` is then applied with one integer add to
/// the exponent bits.
fn scaled_exp<const FMA: bool, const WIDE: bool>(hi: f32, lo: f32, k: f32) -> f32 {
    // Below -104 the result is 0 and above 88.8 it is inf; clamping keeps `n` in range
    // (comparisons, so NaN passes through).
    let hi = if WIDE && hi < -104.0 { -104.0 } else { hi };
    let hi = if WIDE && hi > 88.8 { 88.8 } else { hi };
    let (n, whole) = round_small((hi + lo) * LOG2E);
    let r = mad::<FMA>(n, -LN2_HI, hi);
    let r = mad::<FMA>(n, -LN2_LO, r) + lo;
    let p = horner::<FMA, 6>(r, EXP_POLY);
    // k (1 + e^r - 1) as one multiply-add: one rounding where `(.. + 1) * k` takes two.
    let e = mad::<FMA>(mad::<FMA>(p, r * r, r), k, k);
    // 2^n as two factors: n reaches -150 (subnormal results) and 128 (overflow to inf),
    // beyond one f32's exponent range. The first product is exact.
    if WIDE {
        let half = whole >> 1;
        e * pow2(half) * pow2(whole - half)
    } else {
        f32::from_bits((e.to_bits() as i32).wrapping_add(whole << 23) as u32)
    }
}

/// `e^x`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Exp;

impl Fun for Exp {
    #[inline(always)]
    fn narrow(self, x: f32) -> bool {
        (-86.5..=88.0).contains(&x)
    }
    #[inline(always)]
    fn at<const FMA: bool, const WIDE: bool>(self, x: f32) -> f32 {
        exp_parts::<FMA, WIDE>(x, -0.0)
    }
    #[cfg(target_arch = "x86_64")]
    const AVX512: bool = true;
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn at_avx512(self, x: [x86::__m512; 8]) -> [x86::__m512; 8] {
        // SAFETY: the CPU has AVX-512F (the caller's promise).
        unsafe { avx512::exp(x) }
    }
}

/// `e^(x - shift)`: a softmax's exponentials.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ExpShifted(pub f32);

impl Fun for ExpShifted {
    #[inline(always)]
    fn narrow(self, x: f32) -> bool {
        (-86.5..=88.0).contains(&(x - self.0))
    }
    #[inline(always)]
    fn at<const FMA: bool, const WIDE: bool>(self, x: f32) -> f32 {
        exp_parts::<FMA, WIDE>(x - self.0, -0.0)
    }
    #[cfg(target_arch = "x86_64")]
    const AVX512: bool = true;
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn at_avx512(self, x: [x86::__m512; 8]) -> [x86::__m512; 8] {
        // SAFETY: the CPU has AVX-512F (the caller's promise).
        unsafe { avx512::exp_shifted(x, self.0) }
    }
}

/// `out[i] = e^(row[i] - shift)`, vectorised for f32 (f64 through libm). `out` may be
/// uninitialised: every element is written, and the written slice is returned.
pub(crate) fn exp_shifted<'a, T: crate::element::Float>(
    row: &[T],
    shift: T,
    out: &'a mut [MaybeUninit<T>],
) -> &'a mut [T] {
    assert_eq!(
        row.len(),
        out.len(),
        "vmath::exp_shifted: slices of different lengths"
    );
    if T::DTYPE == crate::element::DType::F32 {
        // SAFETY: `T` is f32 (`Element` is sealed and `DTYPE` names the primitive), so the
        // casts change nothing but the type's name.
        let (row, out, shift) = unsafe {
            (
                std::slice::from_raw_parts(row.as_ptr() as *const f32, row.len()),
                std::slice::from_raw_parts_mut(
                    out.as_mut_ptr() as *mut MaybeUninit<f32>,
                    out.len(),
                ),
                *(&shift as *const T as *const f32),
            )
        };
        map(ExpShifted(shift), row, out);
    } else {
        for (o, &v) in out.iter_mut().zip(row) {
            o.write((v - shift).exp());
        }
    }
    // SAFETY: every element of `out` was written just above (`map` writes each one), and
    // `MaybeUninit<T>` has `T`'s layout.
    unsafe { &mut *(out as *mut [MaybeUninit<T>] as *mut [T]) }
}

/// `ln x` (NaN below 0, -inf at ±0).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Log;

/// Cephes' logf polynomial `P` in `ln(1 + m) = m - m²/2 + m³ P(m)`, highest degree first.
const LOG_POLY: [f32; 9] = [
    7.037_683_6e-2,
    -1.151_461e-1,
    1.167_699_9e-1,
    -1.242_014_1e-1,
    1.424_932_3e-1,
    -1.666_805_8e-1,
    2.000_071_4e-1,
    -2.499_999_4e-1,
    0.333_333_3,
];

#[inline(always)]
/// Without `WIDE`, `x` must be a positive normal number (what softplus's `1 + u` always is).
fn log<const FMA: bool, const WIDE: bool>(x: f32) -> f32 {
    // Subnormals: scale into the normal range and take 23 off the exponent.
    let subnormal = WIDE && x < f32::MIN_POSITIVE;
    let scaled = if subnormal { x * 8_388_608.0 } else { x };
    let bits = scaled.to_bits() as i32;
    let exponent = ((bits >> 23) & 0xff) - 126 - if subnormal { 23 } else { 0 };
    // m in [0.5, 1); then into [√½, √2) by moving one factor of 2 where m < √½.
    let m = f32::from_bits(((bits & 0x007f_ffff) | 0x3f00_0000) as u32);
    let below = m < std::f32::consts::FRAC_1_SQRT_2;
    let e = (exponent - if below { 1 } else { 0 }) as f32;
    let m = if below { m + m - 1.0 } else { m - 1.0 };
    let z = m * m;
    let p = horner::<FMA, 9>(m, LOG_POLY);
    let y = mad::<FMA>(e, LN2_LO, p * m * z);
    let y = mad::<FMA>(-0.5, z, y);
    let r = mad::<FMA>(e, LN2_HI, m + y);
    if !WIDE {
        return r;
    }
    let r = if x == f32::INFINITY { x } else { r };
    let r = if x == 0.0 { f32::NEG_INFINITY } else { r };
    if x < 0.0 || x.is_nan() {
        f32::NAN
    } else {
        r
    }
}

impl Fun for Log {
    #[inline(always)]
    fn narrow(self, x: f32) -> bool {
        (f32::MIN_POSITIVE..=f32::MAX).contains(&x)
    }
    #[inline(always)]
    fn at<const FMA: bool, const WIDE: bool>(self, x: f32) -> f32 {
        log::<FMA, WIDE>(x)
    }
    #[cfg(target_arch = "x86_64")]
    const AVX512: bool = true;
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn at_avx512(self, x: [x86::__m512; 8]) -> [x86::__m512; 8] {
        // SAFETY: the CPU has AVX-512F (the caller's promise).
        unsafe { avx512::log(x) }
    }
    #[cfg(target_arch = "x86_64")]
    const AVX512_OWN_BITS: bool = true;
}

/// `tanh x`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tanh;

/// Cephes' tanhf polynomial `P` in `x + x³ P(x²)`, highest degree first.
const TANH_POLY: [f32; 5] = [
    -5.704_988_7e-3,
    2.063_909e-2,
    -5.373_971_6e-2,
    1.333_144_2e-1,
    -0.333_332_8,
];

impl Fun for Tanh {
    #[inline(always)]
    fn narrow(self, x: f32) -> bool {
        !x.is_nan()
    }
    #[inline(always)]
    fn at<const FMA: bool, const WIDE: bool>(self, x: f32) -> f32 {
        let a = x.abs();
        // Near 0: Cephes' tanhf polynomial, x + x³ P(x²).
        let z = x * x;
        let p = horner::<FMA, 5>(z, TANH_POLY);
        let small = mad::<FMA>(p * z, x, x);
        // Elsewhere 1 - 2 / (e^2|x| + 1); past 9.1, tanh rounds to 1 and e^2|x| is capped
        // so it stays finite.
        let capped = if a > 9.1 { 9.1 } else { a };
        let e = exp_parts::<FMA, WIDE>(capped + capped, -0.0);
        let large = (1.0 - 2.0 / (e + 1.0)).copysign(x);
        if a < 0.625 {
            small
        } else {
            large
        }
    }
    #[cfg(target_arch = "x86_64")]
    const AVX512: bool = true;
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn at_avx512(self, x: [x86::__m512; 8]) -> [x86::__m512; 8] {
        // SAFETY: the CPU has AVX-512F (the caller's promise).
        unsafe { avx512::tanh(x) }
    }
    #[cfg(target_arch = "x86_64")]
    const AVX512_OWN_BITS: bool = true;
}

/// The logistic function `1 / (1 + e^-x)`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sigmoid;

impl Fun for Sigmoid {
    #[inline(always)]
    fn narrow(self, x: f32) -> bool {
        x.abs() <= 86.5
    }
    #[inline(always)]
    fn at<const FMA: bool, const WIDE: bool>(self, x: f32) -> f32 {
        // e^-|x| <= 1 never overflows: σ(x) = 1 / (1 + e) for x >= 0, e / (1 + e) below.
        let e = exp_parts::<FMA, WIDE>(-x.abs(), -0.0);
        let numerator = if x >= 0.0 { 1.0 } else { e };
        numerator / (1.0 + e)
    }
    #[cfg(target_arch = "x86_64")]
    const AVX512: bool = true;
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn at_avx512(self, x: [x86::__m512; 8]) -> [x86::__m512; 8] {
        // SAFETY: the CPU has AVX-512F (the caller's promise).
        unsafe { avx512::sigmoid(x) }
    }
}

/// `ln(1 + e^x)`, as `max(x, 0) + log1p(e^-|x|)`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Softplus;

impl Fun for Softplus {
    #[inline(always)]
    fn narrow(self, x: f32) -> bool {
        x.abs() <= 86.5
    }
    #[inline(always)]
    fn at<const FMA: bool, const WIDE: bool>(self, x: f32) -> f32 {
        let u = exp_parts::<FMA, WIDE>(-x.abs(), -0.0);
        // log1p(u) = log(w) - ((w - 1) - u) / w with w = 1 + u rounded (Goldberg): the
        // correction restores what the rounding of 1 + u lost, and gives u when w == 1.
        let w = 1.0 + u;
        let log1p = log::<FMA, false>(w) - ((w - 1.0) - u) / w;
        let positive = if x > 0.0 { x } else { 0.0 };
        let r = positive + log1p;
        if x.is_nan() {
            x
        } else {
            r
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512;
mod gelu;
pub(crate) use gelu::{Gelu, GeluDerivative};

#[cfg(test)]
mod tests;
