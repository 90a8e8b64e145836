//! nn: losses against PyTorch's numbers and gradcheck, Linear, Sequential, and user
//! modules with their parameter names. Saving and loading are in `save_load.rs`.
//!
//! The reference numbers and files come from `tests/fixtures/pytorch_reference.py`
//! (PyTorch 2.15, safetensors 0.8); run it from the repository root to regenerate them.

#[path = "support/close.rs"]
mod close;
#[path = "../examples/07_custom_module.rs"]
#[allow(dead_code)]
mod custom_module;
#[path = "support/generator.rs"]
mod generator;
#[path = "support/proptest_config.rs"]
mod proptest_config;

use close::assert_close;
use custom_module::MyOneLayerNet;
use generator::take_turn;
// PyTorch's numbers, as printed (some happen to equal ln 2).
#[allow(clippy::approx_constant)]
#[path = "fixtures/functional_reference.rs"]
mod reference;

use proptest::prelude::*;
use proptest_config::config;
use tapegrad::autograd::{gradcheck, GradcheckOptions};
use tapegrad::nn::functional::{self as F, Reduction};
use tapegrad::nn::{Linear, Module, Params, Relu, Sequential, Sigmoid, Tanh};
use tapegrad::{ErrorKind, Tensor};

// The script's inputs.
fn a() -> Tensor<f64> {
    Tensor::from_vec(vec![0.5, -1.0, 2.0, 3.0, -0.25, 1.5], &[2, 3])
}
fn t() -> Tensor<f64> {
    Tensor::from_vec(vec![1.0, 0.0, 2.5, -1.0, 0.5, 1.5], &[2, 3])
}
fn p() -> Tensor<f64> {
    Tensor::from_vec(vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.25], &[2, 3])
}
fn big() -> Tensor<f64> {
    Tensor::from_vec(vec![1000.0, -1000.0, 0.0, -800.0, 30.0, 800.0], &[2, 3])
}

/// Runs `f` on a fresh leaf made by `input`, backward with the script's upstream gradient
/// (0.1, 0.2, ... or 1 for a scalar), and compares value and gradient with PyTorch's.
fn check_against_torch(
    name: &str,
    input: fn() -> Tensor<f64>,
    f: impl Fn(&Tensor<f64>) -> Tensor<f64>,
    (value, grad): (&[f64], &[f64]),
) {
    let x = input().requires_grad_(true);
    let y = f(&x);
    if y.ndim() == 0 {
        y.backward();
    } else {
        let up: Vec<f64> = (1..=y.numel()).map(|i| i as f64 / 10.0).collect();
        y.try_backward_from(&Tensor::from_vec(up, y.shape()), false)
            .unwrap();
    }
    assert_close(&y.to_vec(), value, 1e-12, &format!("{name} value"));
    assert_close(
        &x.grad().unwrap().to_vec(),
        grad,
        1e-12,
        &format!("{name} grad"),
    );
}

/// A reference case: name, input, the function, and PyTorch's (value, gradient).
type Case = (
    &'static str,
    fn() -> Tensor<f64>,
    Box<dyn Fn(&Tensor<f64>) -> Tensor<f64>>,
    (&'static [f64], &'static [f64]),
);

#[test]
fn should_match_pytorch_losses_and_their_gradients() {
    let _turn = take_turn();
    use reference::*;
    let cases: Vec<Case> = vec![
        ("mse mean", a, Box::new(|x| F::mse_loss(x, &t())), MSE_MEAN),
        (
            "mse sum",
            a,
            Box::new(|x| F::mse_loss_with(x, &t(), Reduction::Sum)),
            MSE_SUM,
        ),
        (
            "mse none",
            a,
            Box::new(|x| F::mse_loss_with(x, &t(), Reduction::None)),
            MSE_NONE,
        ),
        ("l1 mean", a, Box::new(|x| F::l1_loss(x, &t())), L1_MEAN),
        (
            "l1 sum",
            a,
            Box::new(|x| F::l1_loss_with(x, &t(), Reduction::Sum)),
            L1_SUM,
        ),
        (
            "l1 none",
            a,
            Box::new(|x| F::l1_loss_with(x, &t(), Reduction::None)),
            L1_NONE,
        ),
        (
            "log_softmax dim 1",
            a,
            Box::new(|x| F::log_softmax(x, 1)),
            LOG_SOFTMAX_1,
        ),
        (
            "log_softmax dim 0",
            a,
            Box::new(|x| F::log_softmax(x, 0)),
            LOG_SOFTMAX_0,
        ),
        ("softmax", a, Box::new(|x| F::softmax(x, 1)), SOFTMAX_1),
        (
            "log_softmax of ±1000",
            big,
            Box::new(|x| F::log_softmax(x, 1)),
            LOG_SOFTMAX_BIG,
        ),
        (
            "cross_entropy mean",
            a,
            Box::new(|x| F::cross_entropy(x, &[2, 0])),
            CROSS_ENTROPY_MEAN,
        ),
        (
            "cross_entropy sum",
            a,
            Box::new(|x| F::cross_entropy_with(x, &[2, 0], Reduction::Sum)),
            CROSS_ENTROPY_SUM,
        ),
        (
            "cross_entropy none",
            a,
            Box::new(|x| F::cross_entropy_with(x, &[2, 0], Reduction::None)),
            CROSS_ENTROPY_NONE,
        ),
        (
            "cross_entropy of ±1000",
            big,
            Box::new(|x| F::cross_entropy(x, &[1, 0])),
            CROSS_ENTROPY_BIG,
        ),
        (
            "bce mean",
            a,
            Box::new(|x| F::binary_cross_entropy_with_logits(x, &p())),
            BCE_LOGITS_MEAN,
        ),
        (
            "bce sum",
            a,
            Box::new(|x| F::binary_cross_entropy_with_logits_with(x, &p(), Reduction::Sum)),
            BCE_LOGITS_SUM,
        ),
        (
            "bce none",
            a,
            Box::new(|x| F::binary_cross_entropy_with_logits_with(x, &p(), Reduction::None)),
            BCE_LOGITS_NONE,
        ),
        (
            // includes a logit of exactly 0, where a max/abs formula gets the gradient wrong
            "bce of ±1000 and 0",
            big,
            Box::new(|x| F::binary_cross_entropy_with_logits(x, &Tensor::full(&[2, 3], 0.5))),
            BCE_LOGITS_BIG,
        ),
        (
            "softplus of ±1000",
            big,
            Box::new(|x| x.softplus()),
            SOFTPLUS_BIG,
        ),
    ];
    for (name, input, f, expected) in cases {
        check_against_torch(name, input, f, expected);
    }
}

#[test]
fn should_give_a_single_target_loss_for_one_dimensional_logits() {
    let _turn = take_turn();
    // F.cross_entropy(torch.tensor([0.5, -1.0, 2.0]), torch.tensor(1)) = 3.2413...
    let logits: Tensor<f64> = Tensor::from_vec(vec![0.5, -1.0, 2.0], &[3]);
    let expected = -(-1.0f64) + (0.5f64.exp() + (-1.0f64).exp() + 2.0f64.exp()).ln();
    assert!((F::cross_entropy(&logits, &[1]).item() - expected).abs() < 1e-12);
}

fn passes_gradcheck(
    f: impl Fn(&[Tensor<f64>]) -> Tensor<f64>,
    inputs: &[Tensor<f64>],
) -> Result<(), TestCaseError> {
    let report = gradcheck(f, inputs, GradcheckOptions::default());
    prop_assert!(report.passed, "{}", report);
    Ok(())
}

fn matrix() -> impl Strategy<Value = (usize, usize, Vec<f64>, Vec<f64>)> {
    (1usize..5, 1usize..5).prop_flat_map(|(n, c)| {
        (
            Just(n),
            Just(c),
            prop::collection::vec(-3.0f64..3.0, n * c),
            prop::collection::vec(-3.0f64..3.0, n * c),
        )
    })
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn losses_pass_gradcheck((n, c, x, y) in matrix(), seed in 0usize..1000, transposed in any::<bool>()) {
        // A transposed input reaches the loss as a strided view.
        let shape = if transposed { [c, n] } else { [n, c] };
        let view = |t: &Tensor<f64>| if transposed { t.t() } else { t.clone() };
        let x = Tensor::from_vec(x, &shape);
        let y = Tensor::from_vec(y, &shape);
        let targets: Vec<usize> = (0..n).map(|i| (seed + 7 * i) % c).collect();
        let probabilities = y.sigmoid();
        passes_gradcheck(|v| F::mse_loss(&view(&v[0]), &view(&v[1])), &[x.clone(), y.clone()])?;
        passes_gradcheck(|v| F::log_softmax(&view(&v[0]), 1), std::slice::from_ref(&x))?;
        passes_gradcheck(|v| F::softmax(&view(&v[0]), 0), std::slice::from_ref(&x))?;
        passes_gradcheck(|v| F::cross_entropy(&view(&v[0]), &targets), std::slice::from_ref(&x))?;
        passes_gradcheck(
            |v| F::binary_cross_entropy_with_logits_with(&view(&v[0]), &view(&v[1]), Reduction::None),
            &[x.clone(), probabilities],
        )?;
        // l1 has a kink where input == target; random inputs avoid it almost surely.
        passes_gradcheck(|v| F::l1_loss_with(&view(&v[0]), &view(&v[1]), Reduction::Sum), &[x, y])?;
    }
}

#[test]
fn should_refuse_losses_on_shapes_that_do_not_fit() {
    let _turn = take_turn();
    let input: Tensor = Tensor::zeros(&[64, 1]);
    let e = F::try_mse_loss(&input, &Tensor::zeros(&[64])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Shape);
    assert_eq!(
        e.to_string(),
        "mse_loss: input shape [64, 1] and target shape [64] differ (losses do not broadcast; reshape one of them)"
    );
    let logits: Tensor = Tensor::zeros(&[2, 3]);
    let e = F::try_cross_entropy(&logits, &[0, 3]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Index);
    assert_eq!(
        e.to_string(),
        "cross_entropy: target[1] = 3 is out of range for 3 classes (input shape [2, 3])"
    );
    let e = F::try_cross_entropy(&logits, &[0]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cross_entropy: input of shape [2, 3] needs 2 target indices, got 1"
    );
    let e = F::try_log_softmax(&logits, 2).unwrap_err();
    assert_eq!(e.op(), "log_softmax");
    assert_eq!(e.kind(), ErrorKind::Index);
    let panic =
        std::panic::catch_unwind(|| F::l1_loss(&Tensor::<f32>::zeros(&[2]), &Tensor::zeros(&[3])));
    let message = *panic.unwrap_err().downcast::<String>().unwrap();
    assert!(
        message.starts_with("l1_loss: input shape [2] and target shape [3] differ"),
        "{message}"
    );
}

#[test]
fn should_initialise_linear_like_pytorch() {
    let _turn = take_turn();
    tapegrad::manual_seed(7);
    let layer: Linear = Linear::new(16, 300);
    assert_eq!(layer.weight().shape(), &[300, 16]);
    assert_eq!(layer.bias().unwrap().shape(), &[300]);
    assert!(layer.weight().requires_grad() && layer.bias().unwrap().requires_grad());
    // U(-1/√16, 1/√16) = U(-0.25, 0.25): all inside, and spread over the whole range.
    let w = layer.weight().to_vec();
    assert!(w.iter().all(|v| v.abs() <= 0.25));
    let (lo, hi) = w
        .iter()
        .fold((0f32, 0f32), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    assert!(lo < -0.24 && hi > 0.24, "range {lo}..{hi}");
    let mean = w.iter().sum::<f32>() / w.len() as f32;
    assert!(mean.abs() < 0.01, "mean {mean}");
    // The seeded generator makes it reproducible.
    tapegrad::manual_seed(7);
    assert_eq!(Linear::<f32>::new(16, 300).weight().to_vec(), w);
}

#[test]
fn should_compute_linear_as_x_times_weight_transposed_plus_bias() {
    let _turn = take_turn();
    let layer: Linear<f64> = Linear::from_weights(
        Tensor::from_vec(vec![1.0, 2.0, 3.0, -1.0, 0.5, 0.0], &[2, 3]),
        Some(Tensor::from_vec(vec![0.25, -0.5], &[2])),
    );
    let x = Tensor::from_vec(vec![1.0, 0.0, 2.0, -1.0, 1.0, 1.0], &[2, 3]);
    // by hand: [1+0+6+0.25, -1+0+0-0.5], [-1+2+3+0.25, 1+0.5+0-0.5]
    assert_eq!(layer.forward(&x).to_vec(), vec![7.25, -1.5, 4.25, 1.0]);
    // a single sample, and extra leading dims
    assert_eq!(
        layer
            .forward(&Tensor::from_vec(vec![1.0, 0.0, 2.0], &[3]))
            .to_vec(),
        vec![7.25, -1.5]
    );
    assert_eq!(layer.forward(&x.reshape(&[1, 2, 3])).shape(), &[1, 2, 2]);
    let no_bias: Linear<f64> = Linear::from_weights(layer.weight().detach(), None);
    assert_eq!(no_bias.forward(&x).to_vec(), vec![7.0, -1.0, 4.0, 1.5]);
    assert_eq!(no_bias.named_parameters().len(), 1);
    assert!(Linear::<f32>::with_bias(3, 2, false).bias().is_none());

    let e = layer.try_forward(&Tensor::zeros(&[2, 4])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Linear: input of shape [2, 4] does not end in in_features = 3 (weight [2, 3])"
    );
    let e = Linear::try_from_weights(Tensor::<f32>::zeros(&[2, 3]), Some(Tensor::zeros(&[3])))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Linear: bias must have shape [2] to match weight [2, 3], got [3]"
    );
}

fn names<T: tapegrad::Float>(m: &impl Module<T>) -> Vec<String> {
    m.named_parameters().into_iter().map(|(n, _)| n).collect()
}

#[test]
fn should_name_sequential_children_by_index_like_pytorch() {
    let _turn = take_turn();
    let model: Sequential = Sequential::new()
        .add(Linear::new(4, 8))
        .add(Relu)
        .add(Linear::new(8, 8))
        .add(Tanh)
        .add(Sequential::new().add(Linear::new(8, 2)).add(Sigmoid));
    // torch.nn.Sequential(Linear(4,8), ReLU(), Linear(8,8), Tanh(), Sequential(Linear(8,2), Sigmoid())).state_dict().keys()
    assert_eq!(
        names(&model),
        [
            "0.weight",
            "0.bias",
            "2.weight",
            "2.bias",
            "4.0.weight",
            "4.0.bias"
        ]
    );
    assert_eq!(model.parameters().len(), 6);
    let y = model.forward(&Tensor::ones(&[3, 4]));
    assert_eq!(y.shape(), &[3, 2]);
    assert!(y.to_vec().iter().all(|&v| v > 0.0 && v < 1.0)); // the final sigmoid
    let empty: Sequential = Sequential::new();
    let x: Tensor = Tensor::ones(&[2]);
    assert_eq!(empty.forward(&x).to_vec(), x.to_vec());
}

/// Two levels: a user module holding a Sequential, a Linear, a user module and a tensor.
struct TwoLevel {
    encoder: Sequential,
    inner: MyOneLayerNet,
    head: Linear,
    scale: Tensor,
}

impl Module for TwoLevel {
    fn forward(&self, x: &Tensor) -> Tensor {
        let h = self.encoder.forward(x);
        self.head.forward(&self.inner.forward(&h).relu()) * &self.scale
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        Params::new()
            .module("encoder", &self.encoder)
            .module("inner", &self.inner)
            .module("head", &self.head)
            .tensor("scale", &self.scale)
            .into()
    }
}

fn two_level() -> TwoLevel {
    TwoLevel {
        encoder: Sequential::new().add(Linear::new(4, 4)).add(Tanh),
        inner: MyOneLayerNet::new(4, 2),
        head: Linear::new(2, 1),
        scale: Tensor::ones(&[1]).requires_grad_(true),
    }
}

#[test]
fn should_name_nested_user_module_parameters_like_a_state_dict() {
    let _turn = take_turn();
    assert_eq!(
        names(&MyOneLayerNet::new(4, 2)),
        ["linear.weight", "linear.bias"]
    );
    // The same model in PyTorch (encoder = Sequential(Linear(4,4), Tanh()), inner = MyOneLayerNet(),
    // head = Linear(2,1), scale = nn.Parameter(torch.ones(1))) has these state_dict keys:
    assert_eq!(
        names(&two_level()),
        [
            "encoder.0.weight",
            "encoder.0.bias",
            "inner.linear.weight",
            "inner.linear.bias",
            "head.weight",
            "head.bias",
            "scale"
        ]
    );
}

#[test]
fn should_reach_every_parameter_with_backward_and_clear_grads_with_zero_grad() {
    let _turn = take_turn();
    let model = two_level();
    let x: Tensor = Tensor::randn(&[5, 4]);
    F::mse_loss(&model.forward(&x), &Tensor::zeros(&[5, 1])).backward();
    for (name, p) in model.named_parameters() {
        assert_eq!(
            p.grad().map(|g| g.shape().to_vec()),
            Some(p.shape().to_vec()),
            "{name}"
        );
    }
    model.zero_grad();
    assert!(model.parameters().iter().all(|p| p.grad().is_none()));
}

fn linear_case() -> impl Strategy<Value = (Vec<usize>, usize, usize, bool, bool, Vec<f64>)> {
    // (batch dims, in, out, bias, transposed weight, values)
    (
        prop::collection::vec(1usize..4, 1..3),
        1usize..5,
        1usize..4,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_flat_map(|(batch, inner, out, bias, transposed)| {
            let n = batch.iter().product::<usize>() * inner + out * inner + out;
            (
                Just(batch),
                Just(inner),
                Just(out),
                Just(bias),
                Just(transposed),
                prop::collection::vec(-2.0f64..2.0, n),
            )
        })
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn linear_passes_gradcheck_and_equals_its_composite(
        (batch, inner, out, bias, transposed, values) in linear_case()
    ) {
        // x [..., in], w [out, in] (stored transposed, as a strided view, when asked), b [out].
        let mut x_shape = batch.clone();
        x_shape.push(inner);
        let nx = x_shape.iter().product::<usize>();
        let x = Tensor::from_vec(values[..nx].to_vec(), &x_shape);
        let w_values = values[nx..nx + out * inner].to_vec();
        let w = if transposed {
            Tensor::from_vec(w_values, &[inner, out]).t()
        } else {
            Tensor::from_vec(w_values, &[out, inner])
        };
        let b = Tensor::from_vec(values[nx + out * inner..].to_vec(), &[out]);
        let layer = |v: &[Tensor<f64>]| {
            Linear::from_weights(v[1].clone(), bias.then(|| v[2].clone())).forward(&v[0])
        };
        let composite = {
            let y = x.matmul(&w.t());
            if bias { y + &b } else { y }
        };
        let fused = layer(&[x.clone(), w.clone(), b.clone()]);
        prop_assert_eq!(fused.shape(), composite.shape());
        for (f, c) in fused.to_vec().iter().zip(composite.to_vec()) {
            prop_assert!((f - c).abs() <= 1e-12 * (1.0 + c.abs()), "{} vs {}", f, c);
        }
        let inputs = if bias { vec![x, w, b] } else { vec![x, w] };
        passes_gradcheck(|v| layer(v), &inputs)?;
    }
}

#[test]
fn a_model_built_in_one_thread_trains_in_another() {
    // Every Module is Send + Sync, Sequential (boxed children) included.
    fn assert_send_sync<M: Send + Sync>(_: &M) {}
    let model: tapegrad::nn::Sequential<f64> = tapegrad::nn::Sequential::new()
        .add(tapegrad::nn::Linear::new(4, 8))
        .add(tapegrad::nn::Relu)
        .add(tapegrad::nn::Linear::new(8, 2));
    assert_send_sync(&model);
    let trained = std::thread::spawn(move || {
        use tapegrad::nn::Module;
        use tapegrad::optim::{Optimizer, Sgd};
        tapegrad::manual_seed(0);
        let x = tapegrad::Tensor::<f64>::randn(&[16, 4]);
        let y = tapegrad::Tensor::<f64>::randn(&[16, 2]);
        let mut optimizer = Sgd::new(model.parameters(), 0.05);
        let loss = |m: &tapegrad::nn::Sequential<f64>| {
            tapegrad::nn::functional::mse_loss(&m.forward(&x), &y)
        };
        let first = loss(&model).item();
        for _ in 0..50 {
            let l = loss(&model);
            optimizer.zero_grad();
            l.backward();
            optimizer.step();
        }
        (first, loss(&model).item(), model)
    })
    .join()
    .expect("the training thread finished");
    assert!(trained.1 < trained.0, "{} -> {}", trained.0, trained.1);
}
