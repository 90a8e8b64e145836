//! The layers of issue 11 against PyTorch: values and input gradients in f64 (to 1e-10) on
//! the inputs of `fixtures/layers_reference.py` (its Python is beside each case there),
//! plus the modules' modes, buffers and errors.

#[path = "support/close.rs"]
mod close;
#[path = "support/reference.rs"]
mod reference;

use close::assert_close;
use tapegrad::nn::functional as F;
use tapegrad::nn::{
    self, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv1d, Conv2d, Dropout, Embedding, Flatten,
    LayerNorm, Linear, MaxPool2d, Module, Relu, Sequential,
};
use tapegrad::Tensor;

/// Input `k` of `shape`: ((i·37 + 11k) mod 101) / 50 - 1, as the Python makes it.
fn inp(k: usize, shape: &[usize]) -> Tensor<f64> {
    let n: usize = shape.iter().product();
    let values = (0..n)
        .map(|i| ((i * 37 + 11 * k) % 101) as f64 / 50.0 - 1.0)
        .collect();
    Tensor::from_vec(values, shape)
}

fn bn_stats(c: usize) -> (Tensor<f64>, Tensor<f64>) {
    (inp(5, &[c]), &inp(6, &[c]).abs() + 0.5)
}

/// The case's input shapes and the tapegrad call, by the Python's names.
#[allow(clippy::type_complexity)]
fn case(name: &str) -> (Vec<Vec<usize>>, Box<dyn Fn(&[Tensor<f64>]) -> Tensor<f64>>) {
    let s = |shapes: &[&[usize]]| shapes.iter().map(|s| s.to_vec()).collect::<Vec<_>>();
    match name {
        "conv2d" => (
            s(&[&[2, 3, 7, 6], &[4, 3, 3, 2], &[4]]),
            Box::new(|v| F::conv2d(&v[0], &v[1], Some(&v[2]), 1, 0, 1, 1)),
        ),
        "conv2d_stride_pad_dil" => (
            s(&[&[2, 3, 9, 8], &[4, 3, 3, 3], &[4]]),
            Box::new(|v| F::conv2d(&v[0], &v[1], Some(&v[2]), 2, 1, 2, 1)),
        ),
        "conv2d_groups" => (
            s(&[&[2, 6, 5, 5], &[6, 2, 3, 3]]),
            Box::new(|v| F::conv2d(&v[0], &v[1], None, 2, 1, 1, 3)),
        ),
        "conv2d_pointwise" => (
            s(&[&[2, 4, 3, 5], &[3, 4, 1, 1], &[3]]),
            Box::new(|v| F::conv2d(&v[0], &v[1], Some(&v[2]), 1, 0, 1, 1)),
        ),
        "conv2d_unbatched" => (
            s(&[&[3, 5, 5], &[2, 3, 3, 3]]),
            Box::new(|v| F::conv2d(&v[0], &v[1], None, 1, 1, 1, 1)),
        ),
        "conv1d" => (
            s(&[&[2, 4, 10], &[6, 2, 3], &[6]]),
            Box::new(|v| F::conv1d(&v[0], &v[1], Some(&v[2]), 2, 1, 2, 2)),
        ),
        "max_pool2d" => (
            s(&[&[2, 3, 6, 6]]),
            Box::new(|v| F::max_pool2d(&v[0], 2, 2, 0)),
        ),
        "max_pool2d_overlap_pad" => (
            s(&[&[2, 2, 7, 5]]),
            Box::new(|v| F::max_pool2d(&v[0], 3, 2, 1)),
        ),
        "avg_pool2d" => (
            s(&[&[2, 3, 6, 6]]),
            Box::new(|v| F::avg_pool2d(&v[0], 2, 2, 0)),
        ),
        "avg_pool2d_overlap_pad" => (
            s(&[&[2, 2, 7, 5]]),
            Box::new(|v| F::avg_pool2d(&v[0], 3, 2, 1)),
        ),
        "layer_norm" => (
            s(&[&[3, 4, 5], &[4, 5], &[4, 5]]),
            Box::new(|v| F::layer_norm(&v[0], &[4, 5], Some(&v[1]), Some(&v[2]), 1e-5)),
        ),
        "batch_norm2d_eval" => (
            s(&[&[3, 4, 3, 3], &[4], &[4]]),
            Box::new(|v| {
                let (m, var) = bn_stats(4);
                F::batch_norm(
                    &v[0],
                    Some(&m),
                    Some(&var),
                    Some(&v[1]),
                    Some(&v[2]),
                    false,
                    0.1,
                    1e-5,
                )
            }),
        ),
        "embedding" => (
            s(&[&[5, 3]]),
            Box::new(|v| {
                F::embedding(&Tensor::from_vec(vec![3i64, 0, 4, 4, 4, 1], &[2, 3]), &v[0])
            }),
        ),
        other => panic!("no tapegrad call for case {other}"),
    }
}

/// Runs `f` on fresh inputs and checks value and gradients against the case.
fn check(
    c: &reference::Case,
    shapes: &[Vec<usize>],
    f: &dyn Fn(&[Tensor<f64>]) -> Tensor<f64>,
) -> Vec<Tensor<f64>> {
    let inputs: Vec<Tensor<f64>> = shapes
        .iter()
        .enumerate()
        .map(|(k, s)| inp(k, s).requires_grad_(true))
        .collect();
    let y = f(&inputs);
    assert_eq!(y.shape(), c.shape.as_slice(), "{}: shape", c.name);
    assert_close(&y.to_vec(), &c.value, 1e-10, &c.name);
    let n = y.numel();
    let w = Tensor::from_vec((0..n).map(|i| 1.0 + 0.1 * i as f64).collect(), y.shape());
    (&y * &w).sum().backward();
    for (k, (x, g)) in inputs.iter().zip(&c.grads).enumerate() {
        let grad = x
            .grad()
            .unwrap_or_else(|| panic!("{}: input {k} has no gradient", c.name));
        assert_close(&grad.to_vec(), g, 1e-10, &format!("{} d/dx{k}", c.name));
    }
    inputs
}

#[test]
fn layers_match_pytorch_in_f64() {
    let cases = reference::parse(include_str!("fixtures/layers_reference.txt"));
    let mut checked = 0;
    for c in &cases {
        if c.name.starts_with("batch_norm") && c.name.contains("train") {
            continue; // below, with the running statistics
        }
        let (shapes, f) = case(&c.name);
        check(c, &shapes, &*f);
        checked += 1;
    }
    assert_eq!(checked, 13);
}

#[test]
fn batch_norm_training_matches_pytorch_with_running_statistics() {
    let cases = reference::parse(include_str!("fixtures/layers_reference.txt"));
    let find = |name: &str| cases.iter().find(|c| c.name == name).unwrap();
    for (name, shape) in [
        ("batch_norm1d_train", vec![6, 4]),
        ("batch_norm2d_train", vec![3, 4, 3, 3]),
    ] {
        let (m, v) = bn_stats(4);
        let (m2, v2) = (m.clone(), v.clone());
        let f = move |x: &[Tensor<f64>]| {
            F::batch_norm(
                &x[0],
                Some(&m2),
                Some(&v2),
                Some(&x[1]),
                Some(&x[2]),
                true,
                0.1,
                1e-5,
            )
        };
        check(find(name), &[shape, vec![4], vec![4]], &f);
        assert_close(
            &m.to_vec(),
            &find(&format!("{name}.running_mean")).value,
            1e-12,
            name,
        );
        assert_close(
            &v.to_vec(),
            &find(&format!("{name}.running_var")).value,
            1e-12,
            name,
        );
    }
}

#[test]
fn modules_compute_what_the_functional_forms_do() {
    tapegrad::manual_seed(3);
    let x = inp(0, &[2, 3, 8, 8]);
    let conv = Conv2d::<f64>::new(3, 4, 3).stride(2).padding(1);
    let expected = F::conv2d(&x, conv.weight(), conv.bias_tensor(), 2, 1, 1, 1);
    assert_eq!(conv.forward(&x).to_vec(), expected.to_vec());
    assert_eq!(conv.forward(&x).shape(), &[2, 4, 4, 4]);
    let pool = MaxPool2d::new(2);
    assert_eq!(
        Module::<f64>::forward(&pool, &x).to_vec(),
        F::max_pool2d(&x, 2, 2, 0).to_vec()
    );
    let avg = AvgPool2d::new(3).stride(1).padding(1);
    assert_eq!(
        Module::<f64>::forward(&avg, &x).to_vec(),
        F::avg_pool2d(&x, 3, 1, 1).to_vec()
    );
    let c1 = Conv1d::<f64>::new(3, 2, 3).dilation(2).bias(false);
    let x1 = inp(1, &[2, 3, 9]);
    assert_eq!(
        c1.forward(&x1).to_vec(),
        F::conv1d(&x1, c1.weight(), None, 1, 0, 2, 1).to_vec()
    );
    let names: Vec<String> = c1.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["weight"]);
}

#[test]
fn new_layers_train_and_eval_switches_every_child() {
    let model: Sequential<f64> = Sequential::new()
        .add(Conv2d::new(1, 2, 3))
        .add(BatchNorm2d::new(2))
        .add(Relu)
        .add(Dropout::new(0.5))
        .add(Flatten::new())
        .add(Linear::new(2 * 6 * 6, 3));
    assert!(model.is_training());
    for (_, child) in model.named_children() {
        assert!(child.is_training());
    }
    model.train(false);
    assert!(!model.is_training());
    for (name, child) in model.named_children() {
        // Relu and Flatten act the same in both modes and keep none (they report true).
        if name != "2" && name != "4" {
            assert!(!child.is_training(), "child {name} is still training");
        }
    }
    // In eval mode dropout is the identity and batch norm uses (and keeps) the running stats.
    let x = inp(0, &[4, 1, 8, 8]);
    let (a, b) = (model.forward(&x), model.forward(&x));
    assert_eq!(a.to_vec(), b.to_vec());
    model.eval();
    model.train(true);
    assert!(model.get(3).unwrap().is_training());
}

#[test]
fn batch_norm_buffers_are_in_the_state_dict_and_round_trip() {
    let model: Sequential<f64> = Sequential::new()
        .add(Linear::new(3, 4))
        .add(BatchNorm1d::new(4));
    let names: Vec<String> = model.state_dict().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "0.weight",
            "0.bias",
            "1.weight",
            "1.bias",
            "1.running_mean",
            "1.running_var",
            "1.num_batches_tracked"
        ]
    );
    model.forward(&inp(0, &[5, 3]));
    model.forward(&inp(1, &[5, 3]));
    let dir = std::env::temp_dir().join(format!("tapegrad-layers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bn.safetensors");
    nn::save(&model, &path).unwrap();
    let fresh: Sequential<f64> = Sequential::new()
        .add(Linear::new(3, 4))
        .add(BatchNorm1d::new(4));
    nn::load(&fresh, &path).unwrap();
    for ((name, a), (_, b)) in model.state_dict().into_iter().zip(fresh.state_dict()) {
        match (a.to_tensor::<f64>(), b.to_tensor::<f64>()) {
            (Some(a), Some(b)) => assert_eq!(a.to_vec(), b.to_vec(), "{name}"),
            _ => assert_eq!(
                a.to_tensor::<i64>().unwrap().to_vec(),
                b.to_tensor::<i64>().unwrap().to_vec(),
                "{name}"
            ),
        }
    }
    let tracked = fresh
        .state_dict()
        .into_iter()
        .find(|(n, _)| n == "1.num_batches_tracked")
        .unwrap()
        .1;
    assert_eq!(tracked.to_tensor::<i64>().unwrap().to_vec(), vec![2]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_input_is_an_error_naming_the_layer_and_leaves_state_alone() {
    let conv = Conv2d::<f32>::new(3, 4, 5);
    let e = conv
        .try_forward(&Tensor::zeros(&[2, 2, 8, 8]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Conv2d") && e.contains("[2, 2, 8, 8]") && e.contains("[4, 3, 5, 5]"),
        "{e}"
    );
    let e = conv
        .try_forward(&Tensor::zeros(&[2, 3, 4, 8]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Conv2d") && e.contains("smaller than the kernel"),
        "{e}"
    );
    let e = Conv1d::<f32>::new(2, 2, 3)
        .try_forward(&Tensor::zeros(&[1, 2, 2]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("Conv1d") && e.contains("[1, 2, 2]"), "{e}");

    let table = Embedding::<f32>::new(4, 2);
    let e = table
        .try_forward(&Tensor::from_vec(vec![1i64, 4], &[2]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Embedding") && e.contains("index 4") && e.contains("[4, 2]"),
        "{e}"
    );

    let bn = BatchNorm1d::<f64>::new(3);
    let before = bn.running_mean().unwrap().to_vec();
    let e = bn
        .try_forward(&Tensor::ones(&[1, 3]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("BatchNorm1d") && e.contains("more than 1 value per channel"),
        "{e}"
    );
    assert_eq!(bn.running_mean().unwrap().to_vec(), before);
    assert_eq!(bn.num_batches_tracked(), 0);
    bn.train(false);
    assert!(bn.try_forward(&Tensor::ones(&[1, 3])).is_ok()); // eval uses the running stats

    assert!(LayerNorm::<f32>::new(&[3])
        .try_forward(&Tensor::zeros(&[2, 4]))
        .is_err());
    assert!(MaxPool2d::new(2)
        .padding(2)
        .try_forward(&Tensor::<f32>::zeros(&[1, 4, 4]))
        .is_err());
    assert!(F::try_dropout(&Tensor::<f32>::zeros(&[2]), 1.5, true).is_err());
    assert!(Conv2d::<f32>::new(4, 6, 3).try_groups(4).is_err());
}

#[test]
fn dropout_zeroes_about_p_and_keeps_the_mean() {
    tapegrad::manual_seed(0);
    let x: Tensor<f64> = Tensor::ones(&[20000]);
    let y = F::dropout(&x, 0.3, true).to_vec();
    let zeros = y.iter().filter(|&&v| v == 0.0).count() as f64 / y.len() as f64;
    assert!((zeros - 0.3).abs() < 0.02, "{zeros}");
    assert!(y.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-12));
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    assert!((mean - 1.0).abs() < 0.03, "{mean}");
    // The gradient goes through the kept elements with the same scale.
    let x = Tensor::<f64>::ones(&[1000]).requires_grad_(true);
    let y = F::dropout(&x, 0.5, true);
    y.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), y.to_vec());
}

#[test]
fn max_pool_ties_nan_and_infinity_follow_pytorch() {
    // import torch, torch.nn.functional as F; nan, inf = float("nan"), float("inf")
    // x = torch.tensor([[[[1., 3., nan, 2., -inf, -inf], [3., 0., 5., nan, -inf, -inf]]]], requires_grad=True)
    // F.max_pool2d(x, 2, 2, 0).backward(torch.tensor([[[[10., 20., 30.]]]]))  -> values [3, nan, -inf]
    //   x.grad == [[0, 10, 0, 0, 30, 0], [0, 0, 0, 20, 0, 0]]
    // F.max_pool2d(x, 2, 1, 0).backward(torch.arange(1., 6.).reshape(1, 1, 1, 5))  -> [3, nan, nan, nan, -inf]
    //   x.grad == [[0, 1, 2, 0, 5, 0], [0, 0, 0, 7, 0, 0]]
    let (nan, inf) = (f64::NAN, f64::INFINITY);
    let values = vec![1., 3., nan, 2., -inf, -inf, 3., 0., 5., nan, -inf, -inf];
    let bits = |v: Vec<f64>| {
        v.iter()
            .map(|x| if x.is_nan() { u64::MAX } else { x.to_bits() })
            .collect::<Vec<_>>()
    };
    for (stride, grad, value, expected) in [
        (
            2,
            vec![10., 20., 30.],
            vec![3., nan, -inf],
            vec![0., 10., 0., 0., 30., 0., 0., 0., 0., 20., 0., 0.],
        ),
        (
            1,
            vec![1., 2., 3., 4., 5.],
            vec![3., nan, nan, nan, -inf],
            vec![0., 1., 2., 0., 5., 0., 0., 0., 0., 7., 0., 0.],
        ),
    ] {
        let x = Tensor::from_vec(values.clone(), &[1, 1, 2, 6]).requires_grad_(true);
        let y = F::max_pool2d(&x, 2, stride, 0);
        assert_eq!(bits(y.to_vec()), bits(value), "stride {stride}");
        let n = grad.len();
        (&y * &Tensor::from_vec(grad, &[1, 1, 1, n]))
            .sum()
            .backward(); // d/dy = grad
        assert_eq!(x.grad().unwrap().to_vec(), expected, "stride {stride}");
    }
}

#[test]
fn threaded_conv_and_pool_equal_one_sample_at_a_time() {
    // Large enough that the kernels split the batch across threads (on a machine with
    // more than one core); each sample alone is below that size and runs on one thread.
    tapegrad::manual_seed(11);
    let x = Tensor::<f64>::randn(&[12, 8, 20, 20]).requires_grad_(true);
    let w = Tensor::<f64>::randn(&[16, 8, 3, 3]).requires_grad_(true);
    let b = Tensor::<f64>::randn(&[16]).requires_grad_(true);
    let y = F::conv2d(&x, &w, Some(&b), 1, 1, 1, 1);
    let pooled = F::max_pool2d(&y, 2, 2, 0);
    (&pooled * &pooled).sum().backward();
    let (dx, dw) = (x.grad().unwrap().to_vec(), w.grad().unwrap().to_vec());

    let (mut ys, mut dxs, mut dw_sum) = (Vec::new(), Vec::new(), vec![0.0; dw.len()]);
    for i in 0..12 {
        let xi = x.detach().narrow(0, i, 1).contiguous().requires_grad_(true);
        let wi = w.detach().requires_grad_(true);
        let yi = F::conv2d(&xi, &wi, Some(&b.detach()), 1, 1, 1, 1);
        let pi = F::max_pool2d(&yi, 2, 2, 0);
        (&pi * &pi).sum().backward();
        ys.extend(pi.to_vec());
        dxs.extend(xi.grad().unwrap().to_vec());
        for (s, g) in dw_sum.iter_mut().zip(wi.grad().unwrap().to_vec()) {
            *s += g;
        }
    }
    assert_close(&pooled.to_vec(), &ys, 1e-12, "forward");
    assert_close(&dx, &dxs, 1e-12, "input gradient");
    assert_close(&dw, &dw_sum, 1e-11, "weight gradient");
}

#[test]
fn a_sequential_names_the_child_that_failed() {
    let model: Sequential<f32> = Sequential::new()
        .add(Conv2d::new(1, 4, 3))
        .add(Relu)
        .add(MaxPool2d::new(2))
        .add(Flatten::new())
        .add(Linear::new(4 * 3 * 3, 10));
    // An 8x8 input gives 4@3x3 after the pool, as the Linear expects; 10x10 gives 4@4x4.
    assert_eq!(
        model.forward(&Tensor::zeros(&[2, 1, 8, 8])).shape(),
        &[2, 10]
    );
    let e = model
        .try_forward(&Tensor::zeros(&[2, 1, 10, 10]))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("Sequential: [4] (Linear): "), "{e}");
    assert!(e.contains("[2, 64]"), "{e}");
    let e = model
        .try_forward(&Tensor::zeros(&[2, 3, 8, 8]))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("Sequential: [0] (Conv2d): Conv2d: "), "{e}");
    // Through the trait object too, and the plain forward panics with the same text.
    let boxed: Box<dyn Module<f32>> = Box::new(model);
    assert!(boxed.try_forward(&Tensor::zeros(&[2, 3, 8, 8])).is_err());
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        boxed.forward(&Tensor::zeros(&[2, 3, 8, 8]))
    }))
    .unwrap_err();
    let text = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(text.contains("Sequential: [0] (Conv2d)"), "{text}");
}

#[test]
fn set_num_threads_changes_the_split_not_the_forward() {
    tapegrad::manual_seed(12);
    let x = Tensor::<f64>::randn(&[16, 4, 16, 16]);
    let w = Tensor::<f64>::randn(&[8, 4, 3, 3]);
    let before = tapegrad::get_num_threads();
    tapegrad::set_num_threads(1);
    assert_eq!(tapegrad::get_num_threads(), 1);
    let one = F::conv2d(&x, &w, None, 1, 1, 1, 1).to_vec();
    tapegrad::set_num_threads(3);
    let three = F::conv2d(&x, &w, None, 1, 1, 1, 1).to_vec();
    tapegrad::set_num_threads(0);
    assert_eq!(tapegrad::get_num_threads(), before);
    // Each output element is one GEMM dot product whatever the split: the same bits.
    assert_eq!(one, three);
}

#[test]
fn absurd_conv_and_pool_settings_are_errors_not_overflows() {
    let x = Tensor::<f32>::zeros(&[1, 1, 4, 4]);
    let w = Tensor::<f32>::zeros(&[1, 1, 3, 3]);
    assert!(F::try_conv2d(&x, &w, None, 1, usize::MAX / 2 + 1, 1, 1).is_err());
    assert!(F::try_conv2d(&x, &w, None, 1, 0, usize::MAX, 1).is_err());
    assert!(F::try_conv2d(&x, &w, None, 0, 0, 1, 1).is_err());
    assert!(F::try_conv2d(&x, &w, None, 1, 0, 1, 0).is_err());
    let x1 = Tensor::<f32>::zeros(&[1, 1, 4]);
    let w1 = Tensor::<f32>::zeros(&[1, 1, 3]);
    assert!(F::try_conv1d(&x1, &w1, None, 1, usize::MAX, 1, 1).is_err());
    assert!(F::try_conv1d(&x1, &w1, None, 1, 0, usize::MAX, 1).is_err());
    assert!(F::try_max_pool2d(&x, 0, 1, 0).is_err());
    assert!(F::try_max_pool2d(&x, 2, 0, 0).is_err());
    assert!(F::try_avg_pool2d(&x, usize::MAX, 1, 0).is_err());
}
