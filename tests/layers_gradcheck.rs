//! Every layer of issue 11 passes `gradcheck` (central finite differences in f64) for its
//! input and its parameters over random shapes and settings, with strided (transposed)
//! inputs among them; conv, pooling and the norms pass `gradgradcheck` too.

#[path = "support/generator.rs"]
mod generator;
#[path = "support/gradcheck_props.rs"]
mod gradcheck_props;
#[path = "support/proptest_config.rs"]
mod proptest_config;

use generator::take_turn;
use gradcheck_props::{check, check2};
use proptest::prelude::*;
use proptest_config::config;
use tapegrad::nn::functional as F;
use tapegrad::Tensor;

/// A random input of `shape`, made as its last two dims swapped and transposed back if
/// `strided` (so the layer reads a non-contiguous view).
fn input(shape: &[usize], strided: bool) -> Tensor<f64> {
    let n = shape.len();
    if strided && n >= 2 {
        let mut swapped = shape.to_vec();
        swapped.swap(n - 1, n - 2);
        Tensor::randn(&swapped).transpose(n - 1, n - 2)
    } else {
        Tensor::randn(shape)
    }
}

/// Distinct values (a shuffled ramp with steps of 0.1), so no window of a max-pool has a
/// tie within gradcheck's step.
fn distinct(shape: &[usize]) -> Tensor<f64> {
    let n: usize = shape.iter().product();
    let order = Tensor::randperm(n).to_vec();
    Tensor::from_vec(
        order
            .iter()
            .map(|&i| i as f64 * 0.1 - n as f64 * 0.05)
            .collect(),
        shape,
    )
}

#[derive(Debug, Clone)]
struct ConvCase {
    n: usize,
    groups: usize,
    cg: usize,
    og: usize,
    k: usize,
    stride: usize,
    padding: usize,
    dilation: usize,
    h: usize,
    w: usize,
    bias: bool,
    strided: bool,
    seed: u64,
}

fn conv_case() -> impl Strategy<Value = ConvCase> {
    (
        (1usize..3, 1usize..3, 1usize..3, 1usize..3, 1usize..4),
        (1usize..3, 0usize..3, 1usize..3, 0usize..4, 0usize..4),
        (any::<bool>(), any::<bool>(), any::<u64>()),
    )
        .prop_map(
            |(
                (n, groups, cg, og, k),
                (stride, padding, dilation, dh, dw),
                (bias, strided, seed),
            )| {
                // The smallest input the dilated kernel fits, plus a little.
                let span = dilation * (k - 1) + 1;
                let min = span.saturating_sub(2 * padding).max(1);
                ConvCase {
                    n,
                    groups,
                    cg,
                    og,
                    k,
                    stride,
                    padding,
                    dilation,
                    h: min + dh,
                    w: min + dw,
                    bias,
                    strided,
                    seed,
                }
            },
        )
}

impl ConvCase {
    fn inputs(&self) -> Vec<Tensor<f64>> {
        tapegrad::manual_seed(self.seed);
        let c = self.cg * self.groups;
        let o = self.og * self.groups;
        let mut v = vec![
            input(&[self.n, c, self.h, self.w], self.strided),
            input(&[o, self.cg, self.k, self.k], false),
        ];
        if self.bias {
            v.push(Tensor::randn(&[o]));
        }
        v
    }
    fn conv(&self, v: &[Tensor<f64>]) -> Tensor<f64> {
        F::conv2d(
            &v[0],
            &v[1],
            v.get(2),
            self.stride,
            self.padding,
            self.dilation,
            self.groups,
        )
    }
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn conv2d_gradients_match_finite_differences(case in conv_case()) {
        let _turn = take_turn(); // tests seed and draw from the shared generator
        check(|v| case.conv(v), &case.inputs())?;
    }

    #[test]
    fn conv1d_gradients_match_finite_differences(case in conv_case()) {
        let _turn = take_turn(); // tests seed and draw from the shared generator
        tapegrad::manual_seed(case.seed);
        let c = case.cg * case.groups;
        let o = case.og * case.groups;
        let mut inputs = vec![input(&[case.n, c, case.w], case.strided), Tensor::randn(&[o, case.cg, case.k])];
        if case.bias {
            inputs.push(Tensor::randn(&[o]));
        }
        check(|v| F::conv1d(&v[0], &v[1], v.get(2), case.stride, case.padding, case.dilation, case.groups), &inputs)?;
    }

    #[test]
    fn pooling_gradients_match_finite_differences(
        (k, stride, pad) in (1usize..4, 1usize..3).prop_flat_map(|(k, s)| (Just(k), Just(s), 0..=k / 2)),
        (n, c, dh, dw, seed) in (1usize..3, 1usize..3, 0usize..4, 0usize..4, any::<u64>()),
    ) {
        let _turn = take_turn(); // tests seed and draw from the shared generator
        tapegrad::manual_seed(seed);
        let min = k.saturating_sub(2 * pad).max(1);
        let shape = [n, c, min + dh, min + dw];
        check(|v| F::max_pool2d(&v[0], k, stride, pad), &[distinct(&shape)])?;
        check(|v| F::avg_pool2d(&v[0], k, stride, pad), &[input(&shape, seed % 2 == 0)])?;
    }

    #[test]
    fn norm_gradients_match_finite_differences(
        (n, c, h, seed, strided) in (2usize..5, 1usize..4, 1usize..4, any::<u64>(), any::<bool>()),
    ) {
        let _turn = take_turn(); // tests seed and draw from the shared generator
        tapegrad::manual_seed(seed);
        let x = input(&[n, c, h, 3], strided);
        let (w, b) = (Tensor::randn(&[c]), Tensor::randn(&[c]));
        let (rm, rv) = (Tensor::randn(&[c]), &Tensor::<f64>::rand(&[c]) + 0.5);
        check(|v| F::batch_norm(&v[0], None, None, Some(&v[1]), Some(&v[2]), true, 0.1, 1e-5), &[x.clone(), w.clone(), b.clone()])?;
        check(|v| F::batch_norm(&v[0], Some(&rm), Some(&rv), Some(&v[1]), Some(&v[2]), false, 0.1, 1e-5), &[x.clone(), w, b])?;
        let (lw, lb) = (Tensor::randn(&[h, 3]), Tensor::randn(&[h, 3]));
        check(|v| F::layer_norm(&v[0], &[h, 3], Some(&v[1]), Some(&v[2]), 1e-5), &[x, lw, lb])?;
    }

    #[test]
    fn dropout_gradient_matches_finite_differences(
        (n, p, seed, strided) in (1usize..20, 0.0f64..0.9, any::<u64>(), any::<bool>()),
    ) {
        let _turn = take_turn(); // tests seed and draw from the shared generator
        tapegrad::manual_seed(seed);
        let x = input(&[n, 3], strided);
        // The same mask at every evaluation: reseed before each draw.
        check(|v| { tapegrad::manual_seed(seed); F::dropout(&v[0], p, true) }, &[x])?;
    }

    #[test]
    fn embedding_gradient_matches_finite_differences(
        (rows, dim, len, seed) in (1usize..6, 1usize..4, 1usize..8, any::<u64>()),
    ) {
        let _turn = take_turn(); // tests seed and draw from the shared generator
        tapegrad::manual_seed(seed);
        let ids = Tensor::randint(0, rows as i64, &[len]);
        check(|v| F::embedding(&ids, &v[0]), &[Tensor::randn(&[rows, dim])])?;
    }
}

proptest! {
    #![proptest_config(config(16))]

    #[test]
    fn conv2d_second_derivatives_match_finite_differences(case in conv_case()) {
        let _turn = take_turn(); // tests seed and draw from the shared generator
        check2(|v| case.conv(v).tanh(), &case.inputs())?;
    }

    #[test]
    fn pooling_and_norm_second_derivatives_match_finite_differences(
        (n, c, seed) in (2usize..4, 1usize..3, any::<u64>()),
    ) {
        let _turn = take_turn(); // tests seed and draw from the shared generator
        tapegrad::manual_seed(seed);
        let shape = [n, c, 4, 5];
        check2(|v| F::max_pool2d(&v[0].exp(), 2, 1, 1), &[distinct(&shape)])?; // exp keeps values distinct
        check2(|v| F::avg_pool2d(&v[0].square(), 3, 2, 1), &[input(&shape, true)])?;
        let (w, b) = (Tensor::randn(&[c]), Tensor::randn(&[c]));
        check2(|v| F::batch_norm(&v[0], None, None, Some(&v[1]), Some(&v[2]), true, 0.1, 1e-5), &[input(&shape, false), w, b])?;
        check2(|v| F::layer_norm(&v[0], &[4, 5], None, None, 1e-5), &[input(&shape, false)])?;
    }
}
