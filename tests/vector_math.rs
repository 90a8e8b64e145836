//! The vectorised f32 kernels (`exp`, `log`, `tanh`, `sigmoid`, `softplus`, `gelu`) seen
//! through tensors: against f64 (the same op, rounded), on contiguous inputs (the vector
//! path) and transposed ones (the scalar path), with one thread and two. The kernels'
//! own accuracy sweep over the f32 range is in src/array/vmath.rs.

use tapegrad::Tensor;

/// Held by each test that sets the thread count, which is global: the test harness runs
/// tests side by side, and one test's reset must not land in another's measured run.
static THREAD_SETTING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Distance in ulps between two f32s (both NaN: 0).
fn ulps(a: f32, b: f32) -> u64 {
    if a.is_nan() || b.is_nan() {
        return if a.is_nan() && b.is_nan() {
            0
        } else {
            u64::MAX
        };
    }
    let order = |v: f32| {
        let bits = v.to_bits() as i32;
        if bits < 0 {
            i32::MIN as i64 - bits as i64
        } else {
            bits as i64
        }
    };
    (order(a) - order(b)).unsigned_abs()
}

/// 4096 values from -30 to 30 (with the edges), as a [64, 64] f32 tensor and as f64.
fn inputs() -> (Tensor, Tensor<f64>) {
    let mut xs: Vec<f32> = (0..4096)
        .map(|i| -30.0 + 60.0 * i as f32 / 4095.0)
        .collect();
    xs[..6].copy_from_slice(&[0.0, -0.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN, 1e-40]);
    let wide: Vec<f64> = xs.iter().map(|&x| x as f64).collect();
    (
        Tensor::from_vec(xs, &[64, 64]),
        Tensor::from_vec(wide, &[64, 64]),
    )
}

type Pair = (fn(&Tensor) -> Tensor, fn(&Tensor<f64>) -> Tensor<f64>);

fn ops() -> Vec<(&'static str, Pair, u64)> {
    vec![
        ("exp", (|x| x.exp(), |x| x.exp()), 1),
        ("log", (|x| x.abs().log(), |x| x.abs().log()), 1),
        ("tanh", (|x| x.tanh(), |x| x.tanh()), 2),
        ("sigmoid", (|x| x.sigmoid(), |x| x.sigmoid()), 2),
        ("softplus", (|x| x.softplus(), |x| x.softplus()), 2),
        ("gelu", (|x| x.gelu(), |x| x.gelu()), 5),
    ]
}

#[test]
fn f32_ops_match_f64_rounded_on_contiguous_and_transposed_inputs() {
    let (x, wide) = inputs();
    for (name, (narrow_op, wide_op), bound) in ops() {
        let want: Vec<f32> = wide_op(&wide).to_vec().iter().map(|&v| v as f32).collect();
        let want_t: Vec<f32> = wide_op(&wide.t())
            .to_vec()
            .iter()
            .map(|&v| v as f32)
            .collect();
        for (path, got, want) in [
            ("contiguous", narrow_op(&x).to_vec(), &want),
            ("transposed", narrow_op(&x.t()).to_vec(), &want_t),
        ] {
            for (i, (&g, &w)) in got.iter().zip(want.iter()).enumerate() {
                assert!(
                    ulps(g, w) <= bound,
                    "{name} ({path}) at element {i}: {g:e}, f64 rounded {w:e}"
                );
            }
        }
    }
}

#[test]
fn gelu_keeps_its_negative_tail() {
    // x Φ(x) with Φ from erfc (Python: x * 0.5 * math.erfc(-x / math.sqrt(2))). PyTorch's
    // f32 F.gelu gives -0.0, -1.6391e-07 and -0.0 here: its 1 + erf(x/√2) cancels.
    let x: Tensor = Tensor::from_vec(vec![-10.0, -5.5, -13.5], &[3]);
    let want = [
        -7.619853024160593e-23,
        -1.0444259356238256e-07,
        -1.0555389862638368e-40,
    ];
    for (got, want) in x.gelu().to_vec().into_iter().zip(want) {
        let want = want as f32;
        assert!(ulps(got, want) <= 5, "gelu: {got:e}, want {want:e}");
    }
}

#[test]
fn two_threads_give_the_same_bits_as_one() {
    // 2^18 elements: above the size at which elementwise kernels split across threads.
    let x: Tensor = Tensor::from_vec(
        (0..1 << 18)
            .map(|i| ((i * 7919) % 20_000) as f32 / 1000.0 - 10.0)
            .collect(),
        &[512, 512],
    );
    let labels: Vec<usize> = (0..512).map(|i| (i * 31) % 512).collect();
    let others: Vec<fn(&Tensor, &[usize]) -> Tensor> = vec![
        |x, _| x + &x.t(),
        |x, _| x * 0.5,
        |x, _| x.relu(),
        |x, _| x.sum(),
        |x, _| x.sum_dim(1, false),
        |x, _| x.max_dim(1, false).0,
        |x, _| x.argmax_dim(1, false).to_dtype::<f32>(),
        |x, t| tapegrad::nn::functional::cross_entropy(x, t),
        // Products: bands of rows (512³), bands of columns (more columns than rows, one
        // operand transposed, the last band narrower).
        |x, _| x.mm(x),
        |x, _| x.narrow(0, 0, 100).mm(&x.t()),
        |x, _| x.narrow(1, 0, 200).t().mm(&x.narrow(1, 0, 300)),
    ];
    let _setting = THREAD_SETTING.lock().unwrap_or_else(|e| e.into_inner());
    let run = |threads| {
        tapegrad::set_num_threads(threads);
        let bits = |t: Tensor| t.to_vec().iter().map(|v| v.to_bits()).collect::<Vec<u32>>();
        let mut out: Vec<Vec<u32>> = ops().iter().map(|(_, (op, _), _)| bits(op(&x))).collect();
        out.extend(others.iter().map(|op| bits(op(&x, &labels))));
        // And a gradient: cross-entropy's backward also splits its rows.
        let w = x.detach().requires_grad_(true);
        tapegrad::nn::functional::cross_entropy(&w, &labels).backward();
        out.push(bits(w.grad().expect("a gradient")));
        tapegrad::set_num_threads(0);
        out
    };
    assert_eq!(run(1), run(2));
}

/// Cross-entropy is one fused op whose gradient (`softmax - one_hot` per row, times the
/// upstream gradient) is another: both derivatives of that gradient, through the logits
/// and through the upstream gradient (`a` here), against finite differences.
#[test]
fn fused_cross_entropy_has_second_derivatives_through_both_inputs() {
    use tapegrad::autograd::{gradcheck, gradgradcheck, GradcheckOptions};
    use tapegrad::nn::functional::{cross_entropy_with, Reduction};
    let logits = Tensor::<f64>::from_vec(
        vec![
            0.3, -1.2, 2.0, 0.5, 1.1, 0.0, -0.7, 0.9, 2.5, -2.0, 0.4, 0.1,
        ],
        &[3, 4],
    );
    let weights = Tensor::<f64>::from_vec(vec![0.7, -1.3, 2.1], &[3]);
    let f = |v: &[Tensor<f64>]| {
        (cross_entropy_with(&v[0], &[2usize, 0, 3], Reduction::None) * &v[1]).sum()
    };
    let inputs = [logits, weights];
    let report = gradcheck(f, &inputs, GradcheckOptions::default());
    assert!(report.passed, "{report}");
    gradgradcheck(f, &inputs).unwrap();
}

/// Transposed operands go through tiles of 32 × 32 (elementwise ops, unary maps,
/// `contiguous`): shapes around the tile size, against indices computed by hand. On two
/// threads: the last shape, above 2^17 elements, deals its bands of tiles out to both.
#[test]
fn transposed_operands_walk_by_tiles_to_the_same_values() {
    let _setting = THREAD_SETTING.lock().unwrap_or_else(|e| e.into_inner());
    tapegrad::set_num_threads(2);
    for (batch, rows, cols) in [
        (1, 1, 70),
        (2, 31, 33),
        (1, 32, 32),
        (3, 70, 45),
        (1, 41, 50),
        (1, 65, 1),
        (2, 301, 250),
    ] {
        let n = batch * rows * cols;
        let a_raw: Vec<f32> = (0..n).map(|i| (i % 97) as f32 * 0.25 - 3.0).collect();
        let b_raw: Vec<f32> = (0..n).map(|i| (i % 89) as f32 * 0.5 - 7.0).collect();
        // a is stored [batch, cols, rows] and seen as [batch, rows, cols].
        let a = Tensor::from_vec(a_raw.clone(), &[batch, cols, rows]).transpose(1, 2);
        let b = Tensor::from_vec(b_raw.clone(), &[batch, rows, cols]);
        let at = |k: usize, i: usize, j: usize| a_raw[(k * cols + j) * rows + i];
        let mut sum = Vec::with_capacity(n);
        let mut copy = Vec::with_capacity(n);
        for k in 0..batch {
            for i in 0..rows {
                for j in 0..cols {
                    sum.push(at(k, i, j) + b_raw[(k * rows + i) * cols + j]);
                    copy.push(at(k, i, j));
                }
            }
        }
        let shape = (batch, rows, cols);
        assert_eq!((&a + &b).to_vec(), sum, "a + b, {shape:?}");
        assert_eq!((&b + &a).to_vec(), sum, "b + a, {shape:?}");
        assert_eq!(a.contiguous().to_vec(), copy, "contiguous, {shape:?}");
        let negated: Vec<f32> = copy.iter().map(|v| -v).collect();
        assert_eq!((-&a).to_vec(), negated, "neg, {shape:?}");
    }
    tapegrad::set_num_threads(0);
}
