//! GELU, `x Φ(x)`, and its derivative, through the normal distribution's tail: the
//! largest of the vector functions (the table in the module above gives its accuracy).

use super::{horner, mad, scaled_exp, Fun};
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64 as x86;

/// The parts of `Φ(-|x|)` (the normal distribution's lower tail) = `M e^(hi + lo)`, with
/// `hi + lo = -x²/2` and `M = Φ(-|x|) e^(x²/2)` (Mills' ratio over √(2π)): `(hi, lo, M)`,
/// for [`scaled_exp`] to combine (`benches/python/fit_gelu.py` gives the fits):
///
/// - up to 5, `M = P(y) / Q(y)` in `y = |x|`, degrees 4 and 4, every coefficient positive:
///   no step cancels, and `y` is exact, so no rounded intermediate is amplified;
/// - from 5 to 15 (past which the tail is 0 in f32), `M = G(1/y²) / y`: Horner's rule in
///   `y` would round at every step with the high powers dominating, while in `1/y²` the
///   constant term dominates and the rounding of `1/y²` barely moves `G`.
///
/// `CORE` (`|x| <= 5` for the whole block) evaluates the first alone; otherwise each lane
/// takes its own, and without `WIDE`, `|x| <= 12` (the callers' [`Fun::narrow`]).
#[inline(always)]
fn normal_tail<const FMA: bool, const WIDE: bool, const CORE: bool>(x: f32) -> (f32, f32, f32) {
    // Past 15 the tail is 0 in f32; the cap keeps every intermediate finite.
    let a = x.abs();
    let y = if WIDE && a >= 15.0 { 15.0 } else { a };
    let mills = if !FMA {
        // Without FMA each Horner step rounds twice (6 ulp of GELU in f32): f64 instead,
        // which SSE2 has on every x86_64.
        let y = y as f64;
        let h = |c: &[f32], v: f64| c.iter().fold(0.0, |acc, &k| acc * v + k as f64);
        let near = h(&NUMERATOR, y) / h(&DENOMINATOR, y);
        let far = h(&FAR, 1.0 / (y * y)) / y;
        (if CORE || y <= NEAR as f64 { near } else { far }) as f32
    } else if CORE {
        horner::<true, 5>(y, NUMERATOR) / horner::<true, 5>(y, DENOMINATOR)
    } else {
        // One division for both: P / Q near, G / y far (a lane's other side may be inf
        // or NaN, and is not taken).
        let far = y > NEAR;
        let numerator = if far {
            horner::<true, 7>(1.0 / (y * y), FAR)
        } else {
            horner::<true, 5>(y, NUMERATOR)
        };
        let denominator = if far {
            y
        } else {
            horner::<true, 5>(y, DENOMINATOR)
        };
        numerator / denominator
    };
    // -y²/2 exactly, as a rounded product and its error (`-y/2` is exact): with a fused
    // multiply-add the error is one instruction; without, y is split so that y_hi keeps
    // 12 bits, y_hi² is exact, and the rest rides along as the small part.
    let (hi, lo) = if FMA {
        let half = -0.5 * y;
        let hi = half * y;
        (hi, half.mul_add(y, -hi))
    } else {
        let y_hi = f32::from_bits(y.to_bits() & 0xffff_f000);
        (-0.5 * (y_hi * y_hi), -0.5 * ((y - y_hi) * (y + y_hi)))
    };
    (hi, lo, mills)
}

/// Where the tail's two fits meet, and GELU's core range (`|x| <= NEAR`).
pub(super) const NEAR: f32 = 5.0;
/// GELU's narrow range (`|x| <= TAIL_NARROW`): its results stay normal numbers there.
const TAIL_NARROW: f32 = 12.0;

// Mills' ratio, highest power first: P and Q on [0, NEAR] (relative error of the fit
// 7e-9), and G on [NEAR, 15] (7e-10).
pub(super) const NUMERATOR: [f32; 5] = [
    1.859_275_6e-6,
    0.010_404_275,
    0.088_656_59,
    0.300_965_4,
    0.5,
];
pub(super) const DENOMINATOR: [f32; 5] =
    [0.026_210_88, 0.220_524_86, 0.794_209_36, 1.399_814_8, 1.0];
const FAR: [f32; 7] = [
    940.334_6,
    -244.564_45,
    38.448_15,
    -5.930_213,
    1.196_342_8,
    -0.398_940_03,
    0.398_942_26,
];

/// 1/√(2π), the normal density's factor.
const FRAC_1_SQRT_2PI: f32 = 0.398_942_3;

/// GELU, `x Φ(x)`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Gelu;

impl Fun for Gelu {
    #[inline(always)]
    fn narrow(self, x: f32) -> bool {
        x.abs() <= TAIL_NARROW
    }
    const CORE: bool = true;
    #[inline(always)]
    fn core(self, x: f32) -> bool {
        x.abs() <= NEAR
    }
    #[inline(always)]
    fn at<const FMA: bool, const WIDE: bool>(self, x: f32) -> f32 {
        gelu::<FMA, WIDE, false>(x)
    }
    #[inline(always)]
    fn at_core<const FMA: bool>(self, x: f32) -> f32 {
        gelu::<FMA, false, true>(x)
    }
    #[cfg(target_arch = "x86_64")]
    const AVX512: bool = true;
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn at_avx512(self, x: [x86::__m512; 8]) -> [x86::__m512; 8] {
        // SAFETY: the CPU has AVX-512F (the caller's promise).
        unsafe { super::avx512::gelu(x) }
    }
}

/// GELU, on the path the flags name (see [`normal_tail`]).
#[inline(always)]
fn gelu<const FMA: bool, const WIDE: bool, const CORE: bool>(x: f32) -> f32 {
    let (hi, lo, mills) = normal_tail::<FMA, WIDE, CORE>(x);
    // x Φ(-|x|) = x M e^(-x²/2), with x M applied before the power of two (the product
    // can be subnormal). That is the value below 0; above, x Φ(x) is x - x Φ(-x), where
    // x Φ(-x) <= x/2, so the difference loses no bits.
    let scaled = scaled_exp::<FMA, WIDE>(hi, lo, x * mills);
    let r = if x > 0.0 { x - scaled } else { scaled };
    if !WIDE {
        return r;
    }
    // Past ±15, x Φ(x) rounds to x or -0 (and the capped tail must not meet an unbounded
    // x); -inf Φ(-inf) is -inf · 0: NaN, as the formula and PyTorch give.
    if x == f32::NEG_INFINITY {
        f32::NAN
    } else if x <= -15.0 {
        -0.0
    } else if x >= 15.0 {
        x
    } else {
        r
    }
}

/// GELU's derivative, `Φ(x) + x φ(x)`, `φ(x) = e^(-x²/2) / √(2π)`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GeluDerivative;

impl Fun for GeluDerivative {
    #[inline(always)]
    fn narrow(self, x: f32) -> bool {
        x.abs() <= TAIL_NARROW
    }
    const CORE: bool = true;
    #[inline(always)]
    fn core(self, x: f32) -> bool {
        x.abs() <= NEAR
    }
    #[inline(always)]
    fn at<const FMA: bool, const WIDE: bool>(self, x: f32) -> f32 {
        gelu_derivative::<FMA, WIDE, false>(x)
    }
    #[inline(always)]
    fn at_core<const FMA: bool>(self, x: f32) -> f32 {
        gelu_derivative::<FMA, false, true>(x)
    }
}

/// GELU's derivative, on the path the flags name (see [`normal_tail`]).
#[inline(always)]
fn gelu_derivative<const FMA: bool, const WIDE: bool, const CORE: bool>(x: f32) -> f32 {
    let (hi, lo, mills) = normal_tail::<FMA, WIDE, CORE>(x);
    let xd = x * FRAC_1_SQRT_2PI;
    // Below 0: (M + x/√(2π)) e^(-x²/2), one rounding of a possibly subnormal value;
    // above: 1 - (M - x/√(2π)) e^(-x²/2). One exponential serves both.
    let k = if x >= 0.0 { xd - mills } else { mills + xd };
    let scaled = scaled_exp::<FMA, WIDE>(hi, lo, k);
    let large = if x >= 0.0 { 1.0 + scaled } else { scaled };
    let large = if WIDE && x <= -15.0 { -0.0 } else { large };
    // Near 0, 1/2 + x R(x²), fitted on |x| <= 0.7 (fit_gelu.py).
    let p = horner::<FMA, 6>(
        x * x,
        [
            -1.010_168_6e-4,
            1.148_014_6e-3,
            -9.497_117e-3,
            5.984_118e-2,
            -2.659_615_3e-1,
            7.978_846e-1,
        ],
    );
    let small = mad::<FMA>(x, p, 0.5);
    let r = if x.abs() <= 0.7 { small } else { large };
    // At ±inf, x φ(x) is inf · 0: NaN, as the formula and PyTorch give.
    if WIDE && x.is_infinite() {
        f32::NAN
    } else {
        r
    }
}
