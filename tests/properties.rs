//! Property tests over random shapes: broadcasting against an explicit index-by-index
//! expansion, matmul against a naive triple loop (contiguous, transposed and batched
//! operands, tiny and GEMM-sized), view round trips, and reductions against each other.

#[path = "support/proptest_config.rs"]
mod proptest_config;

use proptest::prelude::*;
use proptest_config::config;
use tapegrad::Tensor;

/// Random dims 1..=4 long, each 1..=max.
fn shape(max_ndim: usize, max: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1..=max, 0..=max_ndim)
}

fn values(n: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-3.0f64..3.0, n)
}

fn tensor(shape: Vec<usize>) -> impl Strategy<Value = Tensor<f64>> {
    let n = shape.iter().product();
    values(n).prop_map(move |v| Tensor::from_vec(v, &shape))
}

/// `a.mm(&b)` gives, for every output, the bits of one f32 sum in `p` order.
fn sums_in_order(a: &Tensor, b: &Tensor) -> Result<(), TestCaseError> {
    let (m, k, n) = (a.shape()[0], a.shape()[1], b.shape()[1]);
    let (da, db) = (a.to_vec(), b.to_vec());
    let got = a.mm(b).to_vec();
    for i in 0..m {
        for j in 0..n {
            let want = (0..k).fold(0.0f32, |sum, p| sum + da[i * k + p] * db[p * n + j]);
            prop_assert_eq!(got[i * n + j].to_bits(), want.to_bits(), "({}, {})", i, j);
        }
    }
    Ok(())
}

/// Two shapes that broadcast: start from the output and knock dims down to 1 or drop
/// leading dims, independently for each operand.
fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>, Vec<usize>)> {
    shape(4, 4).prop_flat_map(|out| {
        let n = out.len();
        (
            Just(out),
            prop::collection::vec(any::<bool>(), n),
            prop::collection::vec(any::<bool>(), n),
            0..=n,
            0..=n,
        )
            .prop_map(|(out, ones_a, ones_b, drop_a, drop_b)| {
                let squash = |ones: &[bool], drop: usize| -> Vec<usize> {
                    out.iter()
                        .zip(ones)
                        .skip(drop)
                        .map(|(&d, &one)| if one { 1 } else { d })
                        .collect()
                };
                let (a, b) = (squash(&ones_a, drop_a), squash(&ones_b, drop_b));
                // The broadcast result: aligned on the right, the larger of each pair
                // (knocked-down dims are 1, so the larger one is the survivor).
                let ndim = a.len().max(b.len());
                let dim = |s: &[usize], i: usize| {
                    if i < ndim - s.len() {
                        1
                    } else {
                        s[i - (ndim - s.len())]
                    }
                };
                let out = (0..ndim).map(|i| dim(&a, i).max(dim(&b, i))).collect();
                (a, b, out)
            })
    })
}

/// Element of a row-major `data` of `shape` seen through broadcasting at `index` of `out`.
fn broadcast_get(data: &[f64], shape: &[usize], out: &[usize], mut flat: usize) -> f64 {
    let mut index = vec![0; out.len()];
    for d in (0..out.len()).rev() {
        index[d] = flat % out[d];
        flat /= out[d];
    }
    let lead = out.len() - shape.len();
    let mut offset = 0;
    for (d, &size) in shape.iter().enumerate() {
        let i = if size == 1 { 0 } else { index[lead + d] };
        offset = offset * size + i;
    }
    data[offset]
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn broadcasting_matches_explicit_expansion(
        (sa, sb, out) in broadcast_pair(),
        seed in any::<u64>(),
    ) {
        tapegrad::manual_seed(seed);
        let a = Tensor::<f64>::randn(&sa);
        let b = Tensor::<f64>::randn(&sb);
        let (da, db) = (a.to_vec(), b.to_vec());
        let numel: usize = out.iter().product();
        for (name, got, f) in [
            ("add", &a + &b, (|x, y| x + y) as fn(f64, f64) -> f64),
            ("sub", &a - &b, |x, y| x - y),
            ("mul", &a * &b, |x, y| x * y),
            ("div", &a / &b, |x, y| x / y),
        ] {
            prop_assert_eq!(got.shape(), out.as_slice());
            let got = got.to_vec();
            for (i, &have) in got.iter().enumerate().take(numel) {
                let want = f(broadcast_get(&da, &sa, &out, i), broadcast_get(&db, &sb, &out, i));
                prop_assert!(have == want || (have.is_nan() && want.is_nan()), "{} at {}: {} vs {}", name, i, have, want);
            }
        }
        // And through explicit broadcast_to views.
        let expanded = &a.broadcast_to(&out).contiguous() + &b.broadcast_to(&out).contiguous();
        prop_assert_eq!(expanded.to_vec(), (&a + &b).to_vec());
    }

    #[test]
    fn matmul_matches_a_naive_triple_loop(
        m in 1usize..40, k in 1usize..40, n in 1usize..40,
        transpose_a in any::<bool>(), transpose_b in any::<bool>(),
        batch in prop::option::of(1usize..4),
        seed in any::<u64>(),
    ) {
        tapegrad::manual_seed(seed);
        // Build each operand either directly or as the transpose (a strided view) of its transpose.
        let operand = |rows: usize, cols: usize, transposed: bool| {
            if transposed { Tensor::<f64>::randn(&[cols, rows]).t() } else { Tensor::<f64>::randn(&[rows, cols]) }
        };
        let (a, b) = (operand(m, k, transpose_a), operand(k, n, transpose_b));
        let (a, b) = match batch {
            // [batch, m, k] x [k, n]: the right operand broadcasts over the batch.
            Some(nb) => (a.unsqueeze(0).broadcast_to(&[nb, m, k]).contiguous() * 1.5, b),
            None => (a, b),
        };
        let got = a.matmul(&b);
        let batches = batch.unwrap_or(1);
        let (da, db, dc) = (a.to_vec(), b.to_vec(), got.to_vec());
        prop_assert_eq!(dc.len(), batches * m * n);
        for bi in 0..batches {
            for i in 0..m {
                for j in 0..n {
                    let want: f64 = (0..k).map(|p| da[bi * m * k + i * k + p] * db[p * n + j]).sum();
                    let have = dc[bi * m * n + i * n + j];
                    prop_assert!((have - want).abs() <= 1e-10 * (1.0 + want.abs()), "({},{},{}): {} vs {}", bi, i, j, have, want);
                }
            }
        }
    }

    /// Below the GEMM's size every output is one sum in `p` order, whichever small kernel
    /// runs (rows packed along k <= 8, a transposed A, strided tiles) and whichever vector
    /// width the CPU gives it: the bits of a sequential f32 loop.
    #[test]
    fn small_f32_matmul_sums_in_order(
        m in 1usize..70, k in 1usize..10, n in 1usize..10,
        transpose_a in any::<bool>(), seed in any::<u64>(),
    ) {
        tapegrad::manual_seed(seed);
        let a: Tensor = if transpose_a { Tensor::randn(&[k, m]).t() } else { Tensor::randn(&[m, k]) };
        let b: Tensor = Tensor::randn(&[k, n]);
        sums_in_order(&a, &b)?;
    }

    /// The same with long inner dimensions and a transposed A, a linear layer's weight
    /// gradient `xᵀ @ g` (4 rows at a time go through AVX registers where the CPU has
    /// AVX2): still one sum in `p` order per output, whatever B's strides.
    #[test]
    fn small_weight_gradients_sum_in_order(
        m in 1usize..12, k in 1usize..200, n in 1usize..7,
        transpose_b in any::<bool>(), seed in any::<u64>(),
    ) {
        tapegrad::manual_seed(seed);
        let a: Tensor = Tensor::randn(&[k, m]).t();
        let b: Tensor = if transpose_b { Tensor::randn(&[n, k]).t() } else { Tensor::randn(&[k, n]) };
        sums_in_order(&a, &b)?;
    }

    #[test]
    fn f32_matmul_agrees_with_f64(m in 1usize..70, k in 1usize..70, n in 1usize..70, seed in any::<u64>()) {
        tapegrad::manual_seed(seed);
        let a = Tensor::<f64>::randn(&[m, k]);
        let b = Tensor::<f64>::randn(&[k, n]);
        let exact = a.mm(&b).to_vec();
        let single = Tensor::<f32>::from_vec(a.to_vec().iter().map(|&v| v as f32).collect(), &[m, k])
            .mm(&Tensor::from_vec(b.to_vec().iter().map(|&v| v as f32).collect(), &[k, n]));
        for (s, e) in single.to_vec().iter().zip(&exact) {
            prop_assert!((*s as f64 - e).abs() <= 1e-4 * (k as f64).sqrt() * (1.0 + e.abs()));
        }
    }

    #[test]
    fn views_round_trip(x in shape(4, 5).prop_flat_map(tensor), d0 in 0usize..4, d1 in 0usize..4) {
        let nd = x.ndim();
        if nd >= 1 {
            let (d0, d1) = (d0 % nd, d1 % nd);
            let back = x.transpose(d0, d1).transpose(d0, d1);
            prop_assert_eq!(back.to_vec(), x.to_vec());
            prop_assert_eq!(back.strides(), x.strides());
            // A permutation then its inverse.
            let dims: Vec<usize> = (0..nd).rev().collect();
            prop_assert_eq!(x.permute(&dims).permute(&dims).to_vec(), x.to_vec());
        }
        let flat = x.reshape(&[x.numel()]);
        prop_assert_eq!(flat.reshape(x.shape()).to_vec(), x.to_vec());
        if nd >= 2 {
            // Reshape of a strided view copies in logical order.
            let t = x.transpose(0, nd - 1);
            prop_assert_eq!(t.reshape(&[x.numel()]).to_vec(), t.contiguous().to_vec());
        }
    }

    /// f32 elementwise ops with one transposed operand (taken through AVX registers where
    /// the CPU has AVX2) give the bits of the same ops on contiguous copies: either operand
    /// transposed, batched or not, sizes with and without whole 8 × 8 blocks, and sizes
    /// past the parallel threshold.
    #[test]
    fn transposed_f32_elementwise_matches_contiguous(
        batch in 1usize..3,
        rows in 1usize..40,
        cols in 1usize..40,
        big in prop::bool::weighted(0.1),
        seed in any::<u64>(),
    ) {
        // Big: past 2^17 elements, where tiles are split across threads.
        let (batch, rows, cols) = if big { (1, rows + 370, cols + 370) } else { (batch, rows, cols) };
        let n = batch * rows * cols;
        let value = |k: usize| {
            let h = (k as u64 ^ seed).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            (h >> 40) as f32 / (1u64 << 24) as f32 * 6.0 - 3.0
        };
        let stored = Tensor::<f32>::from_vec((0..n).map(value).collect(), &[batch, cols, rows]);
        let t = stored.transpose(1, 2);
        let c = t.contiguous();
        let other = Tensor::<f32>::from_vec((0..n).map(|k| value(k + n)).collect(), &[batch, rows, cols]);
        prop_assert_eq!((&t + &other).to_vec(), (&c + &other).to_vec());
        prop_assert_eq!((&other - &t).to_vec(), (&other - &c).to_vec());
        prop_assert_eq!((&t / &other).to_vec(), (&c / &other).to_vec());
        prop_assert_eq!(t.abs().to_vec(), c.abs().to_vec());
        prop_assert_eq!((&t * 0.5).to_vec(), (&c * 0.5).to_vec());
    }

    #[test]
    fn reductions_agree(x in shape(4, 5).prop_flat_map(tensor), keepdim in any::<bool>()) {
        let total = x.sum().item();
        for d in 0..x.ndim() {
            let partial = x.sum_dim(d, keepdim);
            prop_assert!((partial.sum().item() - total).abs() < 1e-9);
            let mean = x.mean_dim(d, keepdim).to_vec();
            let n = x.shape()[d] as f64;
            for (m, s) in mean.iter().zip(partial.to_vec()) {
                prop_assert!((m * n - s).abs() < 1e-9);
            }
            let (values, indices) = x.max_dim(d, keepdim);
            // The max is an element, at the index given, and no element exceeds it.
            let moved = x.transpose(d, x.ndim() - 1).contiguous();
            let rows = moved.to_vec();
            let len = x.shape()[d];
            // max_dim's outputs are in the order of x's other dims; the transposed view
            // keeps that order for all dims but d and the last, so compare through sorting.
            let mut maxima: Vec<f64> = rows.chunks(len).map(|r| r.iter().cloned().fold(f64::NEG_INFINITY, f64::max)).collect();
            let mut got = values.to_vec();
            maxima.sort_by(f64::total_cmp);
            got.sort_by(f64::total_cmp);
            prop_assert_eq!(maxima, got);
            prop_assert!(indices.to_vec().iter().all(|&i| i >= 0 && (i as usize) < len));
        }
        prop_assert!((x.mean().item() * x.numel() as f64 - total).abs() < 1e-9);
    }
}
