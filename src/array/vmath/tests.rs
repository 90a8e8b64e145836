//! The accuracy sweeps of the vector kernels: every flavour this CPU runs, and the narrow
//! path alone, against f64 libm rounded to f32.

use super::*;

/// Every kernel flavour this machine runs (baseline always; AVX2 and AVX-512 when the
/// CPU has them), applied to `xs`.
fn flavours<F: Fun>(f: F, xs: &[f32]) -> Vec<(&'static str, Vec<f32>)> {
    let run = |g: &dyn Fn(&mut [MaybeUninit<f32>])| {
        let mut out = vec![MaybeUninit::uninit(); xs.len()];
        g(&mut out);
        // SAFETY: each flavour writes every element.
        out.into_iter()
            .map(|v| unsafe { v.assume_init() })
            .collect()
    };
    let mut all = vec![("baseline", run(&|d| map_baseline(f, xs, d)))];
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has AVX2 and FMA.
            all.push(("avx2", run(&|d| unsafe { map_avx2::<_, false>(f, xs, d) })));
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F.
            all.push((
                "avx512",
                run(&|d| unsafe { map_avx512::<_, false>(f, xs, d) }),
            ));
        }
    }
    all
}

/// Whether `mul_add` is one instruction here (else it is a slow library call).
fn fused_multiply_add() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Edge values, then a sweep of bit patterns with the given stride (both signs), in
/// pieces of at most 2^24 values, so a sweep of all 2^32 fits in memory.
fn sample(stride: u32) -> impl Iterator<Item = Vec<f32>> {
    let edges = vec![
        0.0,
        -0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        -f32::NAN,
        f32::MIN_POSITIVE,
        f32::MAX,
        f32::MIN,
        f32::EPSILON,
        1.0e-45,
        -1.0e-45,
        88.72283,
        88.72284,
        -87.33655,
        -103.27893,
        -103.972,
        0.625,
        -0.625,
        0.7,
        -0.7,
        9.1,
        15.0,
        -14.0,
        -15.0,
    ];
    // Patterns i · stride, and halfway between them (stride / 2 past each).
    let patterns = (u32::MAX / stride) as u64 + 1;
    let offsets = if stride > 1 {
        vec![0, stride / 2]
    } else {
        vec![0]
    };
    let pieces = offsets.into_iter().flat_map(move |offset| {
        (0..patterns).step_by(1 << 24).map(move |start| {
            (start..(start + (1 << 24)).min(patterns))
                .filter_map(|i| u32::try_from(i * stride as u64 + offset as u64).ok())
                .map(f32::from_bits)
                .collect()
        })
    });
    std::iter::once(edges).chain(pieces)
}

fn check<F: Fun>(name: &str, f: F, reference: fn(f32) -> f32, bound: u32, stride: u32) {
    check_near_root(name, f, reference, bound, 0.0, stride)
}

/// As `check`, but an error within `absolute` also passes: near a root of the function
/// no f32 formula keeps a relative accuracy.
fn check_near_root<F: Fun>(
    name: &str,
    f: F,
    reference: fn(f32) -> f32,
    bound: u32,
    absolute: f32,
    stride: u32,
) {
    // The worst (ulps, x, got) of a piece; errors within `absolute` count as 0.
    let worst_of = |xs: &[f32], ys: &[f32]| {
        xs.iter()
            .zip(ys)
            .map(|(&x, &y)| {
                let r = reference(x);
                let error = if (y - r).abs() <= absolute {
                    0
                } else {
                    ulps(y, r)
                };
                (error, x, y)
            })
            .max_by_key(|w| w.0)
            .unwrap_or((0, 0.0, 0.0))
    };
    let mut worst: Vec<(&str, (u32, f32, f32))> = Vec::new();
    let mut record = |flavour: &'static str, piece: (u32, f32, f32)| match worst
        .iter_mut()
        .find(|(name, _)| *name == flavour)
    {
        Some((_, w)) if w.0 < piece.0 => *w = piece,
        Some(_) => {}
        None => worst.push((flavour, piece)),
    };
    for xs in sample(stride) {
        // The narrow path alone, wherever it claims to be exact (the blocks of the
        // compiled loops mix both paths).
        let narrow: Vec<f32> = xs.iter().copied().filter(|&x| f.narrow(x)).collect();
        let ys: Vec<f32> = narrow.iter().map(|&x| f.at::<false, false>(x)).collect();
        record("narrow", worst_of(&narrow, &ys));
        // And the core path alone, with and without FMA where the CPU has it (the
        // blocks of the compiled loops take it only when all their values allow it).
        if F::CORE {
            let core: Vec<f32> = xs.iter().copied().filter(|&x| f.core(x)).collect();
            let ys: Vec<f32> = core.iter().map(|&x| f.at_core::<false>(x)).collect();
            record("core", worst_of(&core, &ys));
            if fused_multiply_add() {
                let ys: Vec<f32> = core.iter().map(|&x| f.at_core::<true>(x)).collect();
                record("core, FMA", worst_of(&core, &ys));
            }
        }
        for (flavour, ys) in flavours(f, &xs) {
            record(flavour, worst_of(&xs, &ys));
        }
    }
    // Every flavour's worst first, then the verdict, so a failure shows all of them.
    for (flavour, (error, x, _)) in &worst {
        eprintln!("{name} {flavour}: max {error} ulps at {x:e}");
    }
    for (flavour, (error, x, y)) in worst {
        assert!(
            error <= bound,
            "{name} ({flavour}): {error} ulps at x = {x:e} ({:?}): got {y:e}, expected {:e}",
            x.to_bits(),
            reference(x)
        );
    }
}

/// Every `STRIDE`th bit pattern (both halves of each gap, so 2^32 / 4099 · 2 values);
/// `TAPEGRAD_ULP_STRIDE` overrides it (1: all of them).
static STRIDE: std::sync::LazyLock<u32> = std::sync::LazyLock::new(|| {
    std::env::var("TAPEGRAD_ULP_STRIDE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&s| s > 0)
        .unwrap_or(4099)
});

#[test]
fn exp_is_within_1_ulp() {
    check("exp", Exp, reference::exp, 1, *STRIDE);
}

#[test]
fn log_is_within_1_ulp() {
    check("log", Log, reference::log, 1, *STRIDE);
}

#[test]
fn tanh_is_within_2_ulp() {
    check("tanh", Tanh, reference::tanh, 2, *STRIDE);
}

#[test]
fn sigmoid_is_within_2_ulp() {
    check("sigmoid", Sigmoid, reference::sigmoid, 2, *STRIDE);
}

#[test]
fn softplus_is_within_2_ulp() {
    check("softplus", Softplus, reference::softplus, 2, *STRIDE);
}

#[test]
fn gelu_is_within_5_ulp() {
    // 4 ulp at every 4099th bit pattern; a sweep of every 7th found 5 (near x = -4.94,
    // with FMA).
    check("gelu", Gelu, reference::gelu, 5, *STRIDE);
    // GELU's derivative crosses 0 at x = -0.7518: there an absolute error of one ulp
    // of 1/2 (2^-24) is the best any f32 evaluation does.
    check_near_root(
        "gelu'",
        GeluDerivative,
        reference::gelu_derivative,
        4,
        f32::EPSILON / 2.0,
        *STRIDE,
    );
}

/// The explicit AVX-512 forms of the exponentials, `sigmoid` and `gelu` give the compiled loop's bits (NaN for NaN) on the
/// sweep, edges and subnormal results included, and at every length around the blocks of
/// 128 (the tail goes through the compiled loop).
#[cfg(target_arch = "x86_64")]
#[test]
fn explicit_avx512_forms_give_the_compiled_bits() {
    if !std::arch::is_x86_feature_detected!("avx512f") {
        return;
    }
    fn same<F: Fun>(f: F, xs: &[f32], what: &str) {
        let mut explicit = vec![MaybeUninit::uninit(); xs.len()];
        let mut compiled = explicit.clone();
        // SAFETY: the CPU has AVX-512F (checked above).
        unsafe { map_avx512::<_, false>(f, xs, &mut explicit) };
        map_with::<F, true>(f, xs, &mut compiled);
        for ((x, a), b) in xs.iter().zip(&explicit).zip(&compiled) {
            // SAFETY: both maps write every element.
            let (a, b) = unsafe { (a.assume_init(), b.assume_init()) };
            assert!(
                a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                "{what} at {x:e}: {a:e} explicit, {b:e} compiled"
            );
        }
    }
    const {
        assert!(
            <Exp as Fun>::AVX512
                && <ExpShifted as Fun>::AVX512
                && <Sigmoid as Fun>::AVX512
                && <Gelu as Fun>::AVX512
        )
    };
    for xs in sample(*STRIDE) {
        same(Exp, &xs, "exp");
        same(Sigmoid, &xs, "sigmoid");
        same(Gelu, &xs, "gelu");
        same(ExpShifted(3.5), &xs, "exp(x - 3.5)");
        same(ExpShifted(-90.0), &xs, "exp(x + 90)");
    }
    let xs: Vec<f32> = (0..300).map(|i| (i as f32 - 150.0) * 0.731).collect();
    for len in 0..xs.len() {
        same(Exp, &xs[..len], "exp, short");
        same(Gelu, &xs[..len], "gelu, short");
    }
}

/// The AVX-512 forms whose bits are their own (`log`, `tanh`) give every value the same
/// bits whether it sits in a whole block of 128 or in a slice's end (the masked block),
/// subnormal, zero, negative, infinite and NaN values among them.
#[cfg(target_arch = "x86_64")]
#[test]
fn avx512_own_bits_are_the_same_at_every_position() {
    if !std::arch::is_x86_feature_detected!("avx512f") {
        return;
    }
    const { assert!(<Log as Fun>::AVX512_OWN_BITS && <Tanh as Fun>::AVX512_OWN_BITS) };
    let mut xs: Vec<f32> = (0..300).map(|i| (i as f32 * 0.37).exp2() * 1e-3).collect();
    xs[7] = 1e-40;
    xs[150] = 0.0;
    xs[151] = -2.0;
    xs[152] = f32::INFINITY;
    xs[153] = f32::NAN;
    xs[160] = -0.3;
    xs[161] = -1e-40;
    xs[162] = f32::NEG_INFINITY;
    same_at_every_position(Log, &xs);
    same_at_every_position(Tanh, &xs);
}

#[cfg(target_arch = "x86_64")]
fn same_at_every_position<F: Fun>(f: F, xs: &[f32]) {
    let run = |xs: &[f32]| -> Vec<u32> {
        let mut out = vec![MaybeUninit::uninit(); xs.len()];
        // SAFETY: the CPU has AVX-512F (checked by the caller).
        unsafe { map_avx512::<_, false>(f, xs, &mut out) };
        // SAFETY: the map writes every element.
        out.iter()
            .map(|v| unsafe { v.assume_init() }.to_bits())
            .collect()
    };
    let whole = run(xs);
    for start in [0, 1, 7, 128, 140] {
        for len in 0..xs.len() - start {
            assert_eq!(
                run(&xs[start..start + len]),
                whole[start..start + len],
                "start {start}, length {len}"
            );
        }
    }
}

/// The AVX-512 `log`'s tables are what their definition (and `benches/python/log_table.py`)
/// gives: `1/c` rounded for each interval's middle (1 for the one around 1), and the
/// logarithm of that rounded value in a head on a 2^-12 grid and a tail.
#[cfg(target_arch = "x86_64")]
#[test]
fn log_tables_follow_their_definition() {
    use super::avx512::{LOG_HEAD, LOG_INVERSE, LOG_OFFSET, LOG_TAIL};
    for i in 0..16 {
        let bound = |i: i32| f32::from_bits((LOG_OFFSET + (i << 19)) as u32) as f64;
        let (lo, hi) = (bound(i), bound(i + 1));
        let c = if lo <= 1.0 && 1.0 < hi {
            1.0
        } else {
            (lo + hi) / 2.0
        };
        let inverse = (1.0 / c) as f32;
        let log_c = -(inverse as f64).ln();
        let head = (log_c * 4096.0).round() / 4096.0;
        let i = i as usize;
        assert_eq!(LOG_INVERSE[i], inverse, "1/c, interval {i}");
        assert_eq!(LOG_HEAD[i] as f64, head, "head, interval {i}");
        assert_eq!(LOG_TAIL[i], (log_c - head) as f32, "tail, interval {i}");
    }
}

#[test]
fn streaming_stores_give_the_same_bits_as_plain_ones() {
    // map_streaming computes into a stack block and streams it out from the destination's
    // first 32-byte boundary (the explicit AVX-512 forms: straight from the registers,
    // from the first 64-byte boundary): check every start offset within a line, lengths
    // with and without whole blocks, a NaN (a block off the narrow path), and the elements
    // around the destination (untouched).
    same_streamed(Gelu);
    same_streamed(Exp);
    same_streamed(Log);
    same_streamed(Tanh);
}

fn same_streamed<F: Fun>(f: F) {
    let xs: Vec<f32> = (0..3 * BLOCK + 77)
        .map(|i| ((i * 7919) % 2001) as f32 / 100.0 - 10.0)
        .collect();
    let mut with_nan = xs.clone();
    with_nan[BLOCK + 5] = f32::NAN;
    for src in [&xs, &with_nan] {
        for start in 0..17 {
            for len in [
                0,
                5,
                BLOCK - 1,
                BLOCK + 3,
                2 * BLOCK + 40,
                src.len() - start - 1,
            ] {
                let src = &src[start..start + len];
                let mut plain = vec![MaybeUninit::new(-1.0f32); len + 20];
                let mut streamed = plain.clone();
                map(f, src, &mut plain[start % 16..start % 16 + len]);
                map_streaming(f, src, &mut streamed[start % 16..start % 16 + len]);
                // SAFETY: every element was written, by `vec!` or by the maps.
                let bits = |v: &[MaybeUninit<f32>]| -> Vec<u32> {
                    v.iter()
                        .map(|x| unsafe { x.assume_init() }.to_bits())
                        .collect()
                };
                assert_eq!(bits(&streamed), bits(&plain), "start {start}, length {len}");
                for around in [&bits(&plain), &bits(&streamed)] {
                    assert!(around[..start % 16]
                        .iter()
                        .chain(&around[start % 16 + len..])
                        .all(|&b| b == (-1.0f32).to_bits()));
                }
            }
        }
    }
}

#[test]
fn ulps_counts_across_zero_and_flags_nan() {
    assert_eq!(ulps(0.0, -0.0), 0);
    assert_eq!(ulps(1.0e-45, -1.0e-45), 2);
    assert_eq!(ulps(1.0, 1.0 + f32::EPSILON), 1);
    assert_eq!(ulps(f32::NAN, -f32::NAN), 0);
    assert_eq!(ulps(f32::NAN, 1.0), u32::MAX);
}

/// Distance in ulps between two f32s (0 for two NaNs; `u32::MAX` for NaN against a
/// number): the gap between their positions in the ordered list of all f32s.
fn ulps(a: f32, b: f32) -> u32 {
    if a.is_nan() || b.is_nan() {
        return if a.is_nan() && b.is_nan() {
            0
        } else {
            u32::MAX
        };
    }
    let order = |v: f32| {
        let bits = v.to_bits() as i32;
        if bits < 0 {
            i32::MIN.wrapping_sub(bits) as i64
        } else {
            bits as i64
        }
    };
    (order(a) - order(b)).unsigned_abs().min(u32::MAX as u64) as u32
}

/// The reference each function is tested against: f64 libm (correctly rounded or within
/// half an f32 ulp of it), rounded to f32.
mod reference {
    pub(super) fn exp(x: f32) -> f32 {
        (x as f64).exp() as f32
    }
    pub(super) fn log(x: f32) -> f32 {
        (x as f64).ln() as f32
    }
    pub(super) fn tanh(x: f32) -> f32 {
        (x as f64).tanh() as f32
    }
    pub(super) fn sigmoid(x: f32) -> f32 {
        let x = x as f64;
        (if x >= 0.0 {
            1.0 / (1.0 + (-x).exp())
        } else {
            x.exp() / (1.0 + x.exp())
        }) as f32
    }
    pub(super) fn softplus(x: f32) -> f32 {
        let x = x as f64;
        (x.max(0.0) + (-x.abs()).exp().ln_1p()) as f32
    }
    fn cdf(x: f64) -> f64 {
        0.5 * libm::erfc(-x * std::f64::consts::FRAC_1_SQRT_2)
    }
    pub(super) fn gelu(x: f32) -> f32 {
        let x = x as f64;
        (x * cdf(x)) as f32
    }
    pub(super) fn gelu_derivative(x: f32) -> f32 {
        let x = x as f64;
        let density = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
        (cdf(x) + x * density) as f32
    }
}
