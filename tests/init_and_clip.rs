//! `nn::init` (PyTorch's fans, gains and bounds), `clip_grad_norm_`, `clip_grad_value_` and
//! `parameter_count`, against numbers from PyTorch 2.15 (the Python is beside each).

use tapegrad::nn::init::{self, calculate_gain, fans, FanMode, Nonlinearity};
use tapegrad::nn::{clip_grad_norm_, clip_grad_value_, parameter_count, Linear, Module};
use tapegrad::{manual_seed, Tensor};

#[path = "support/close.rs"]
mod close;
use close::assert_close;

#[path = "support/generator.rs"]
mod generator;
// Every test here may draw from the seeded global generator, so each takes its turn.
use generator::take_turn;

/// a, b and the loss `0.7 Σ a² + Σ b · (3, 0.5)`, backward done.
fn params() -> Vec<Tensor<f64>> {
    let a = Tensor::from_vec(vec![0.5, -1.5, 2.0, 0.25, 3.0, -0.75], &[2, 3]).requires_grad_(true);
    let b = Tensor::from_vec(vec![1.0, -2.0], &[2]).requires_grad_(true);
    let loss = &((&a * &a).sum() * 0.7) + &(&b * &Tensor::from_vec(vec![3.0, 0.5], &[2])).sum();
    loss.backward();
    vec![a, b]
}

#[test]
fn clip_grad_norm_matches_pytorch() {
    let _turn = take_turn();
    // a = torch.tensor([[0.5, -1.5, 2.0], [0.25, 3.0, -0.75]], requires_grad=True)
    // b = torch.tensor([1.0, -2.0], requires_grad=True)
    // (a.pow(2).sum() * 0.7 + (b * torch.tensor([3.0, 0.5])).sum()).backward()
    // total = torch.nn.utils.clip_grad_norm_([a, b], 2.0)   # f64 default dtype
    let p = params();
    let total = clip_grad_norm_(&p, 2.0);
    assert_close(&[total], &[6.391791611121251], 1e-15, "total norm");
    assert_close(
        &p[0].grad().unwrap().to_vec(),
        &[
            0.2190308861967928,
            -0.6570926585903784,
            0.8761235447871712,
            0.1095154430983964,
            1.3141853171807567,
            -0.3285463292951892,
        ],
        1e-14,
        "a.grad",
    );
    assert_close(
        &p[1].grad().unwrap().to_vec(),
        &[0.938703797986255, 0.15645063299770917],
        1e-14,
        "b.grad",
    );
    // Below the limit, nothing changes (the factor is clamped to 1).
    let q = params();
    let before = q[0].grad().unwrap().to_vec();
    clip_grad_norm_(&q, 100.0);
    assert_eq!(q[0].grad().unwrap().to_vec(), before);
    // A parameter without a gradient is skipped.
    let lonely = Tensor::<f64>::zeros(&[3]).requires_grad_(true);
    assert_eq!(clip_grad_norm_(&[lonely], 1.0), 0.0);
}

#[test]
fn clip_grad_value_matches_pytorch() {
    let _turn = take_turn();
    // ... the same backward, then torch.nn.utils.clip_grad_value_([a, b], 1.0)
    let p = params();
    clip_grad_value_(&p, 1.0);
    assert_eq!(
        p[0].grad().unwrap().to_vec(),
        vec![0.7, -1.0, 1.0, 0.35, 1.0, -1.0]
    );
    assert_eq!(p[1].grad().unwrap().to_vec(), vec![1.0, 0.5]);
}

#[test]
fn fans_and_gains_are_pytorchs() {
    let _turn = take_turn();
    // from torch.nn.init import _calculate_fan_in_and_fan_out as f, calculate_gain as g
    // f(torch.empty(6, 3, 5, 5)), f(torch.empty(10, 4)), f(torch.empty(2, 3, 4))
    //   -> (75, 150) (4, 10) (12, 8)
    assert_eq!(
        fans(&Tensor::<f32>::zeros(&[6, 3, 5, 5])).unwrap(),
        (75, 150)
    );
    assert_eq!(fans(&Tensor::<f32>::zeros(&[10, 4])).unwrap(), (4, 10));
    assert_eq!(fans(&Tensor::<f32>::zeros(&[2, 3, 4])).unwrap(), (12, 8));
    // g("relu"), g("tanh"), g("leaky_relu", 0.2), g("selu")
    //   -> 1.4142135623730951 (= SQRT_2) 1.6666666666666667 1.3867504905630728 0.75
    assert_close(
        &[
            calculate_gain(Nonlinearity::Relu),
            calculate_gain(Nonlinearity::Tanh),
            calculate_gain(Nonlinearity::LeakyRelu(0.2)),
            calculate_gain(Nonlinearity::Selu),
            calculate_gain(Nonlinearity::Linear),
        ],
        &[
            std::f64::consts::SQRT_2,
            1.6666666666666667,
            1.3867504905630728,
            0.75,
            1.0,
        ],
        1e-15,
        "gains",
    );
}

/// The largest |value| and the standard deviation of `t`.
fn spread(t: &Tensor<f64>) -> (f64, f64) {
    let v = t.to_vec();
    let max = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    (max, t.std().item())
}

#[test]
fn initialisations_draw_from_pytorchs_distributions() {
    let _turn = take_turn();
    manual_seed(7);
    let w = || Tensor::<f64>::zeros(&[256, 64, 3, 3]).requires_grad_(true); // fan_in 576, fan_out 2304
                                                                            // kaiming_uniform_ (a=0, fan_in): bound = √3 · √2 / √576 = 0.10206, std = bound / √3.
    let (max, std) = spread(&init::kaiming_uniform_(&w()));
    let bound = 3f64.sqrt() * 2f64.sqrt() / 24.0;
    assert!(max <= bound && max > 0.99 * bound, "{max} vs {bound}");
    assert!((std - bound / 3f64.sqrt()).abs() < 0.01 * bound);
    // fan_out, relu: std = √2 / √2304.
    let (_, std) =
        spread(&init::try_kaiming_normal_(&w(), FanMode::FanOut, Nonlinearity::Relu).unwrap());
    assert!((std - 2f64.sqrt() / 48.0).abs() < 0.01 * std, "{std}");
    // xavier_uniform_: a = √(6 / (576 + 2304)).
    let (max, _) = spread(&init::xavier_uniform_(&w()));
    let a = (6.0f64 / 2880.0).sqrt();
    assert!(max <= a && max > 0.99 * a);
    let (_, std) = spread(&init::xavier_normal_(&w()));
    assert!((std - (2.0f64 / 2880.0).sqrt()).abs() < 0.01 * std);
    let (max, std) = spread(&init::uniform_(&w(), -0.2, 0.2));
    assert!(max <= 0.2 && (std - 0.2 / 3f64.sqrt()).abs() < 0.002);
    let n = init::normal_(&w(), 0.5, 0.1);
    assert!((n.mean().item() - 0.5).abs() < 0.001 && (n.std().item() - 0.1).abs() < 0.001);
    assert_eq!(init::zeros_(&w()).sum().item(), 0.0);
    assert_eq!(init::ones_(&w()).sum().item(), (256 * 64 * 9) as f64);
    // The same seed draws the same values; a parameter stays a leaf that requires grad.
    manual_seed(3);
    let first = init::kaiming_uniform_(&w()).to_vec();
    manual_seed(3);
    let again = init::kaiming_uniform_(&w());
    assert_eq!(first, again.to_vec());
    assert!(again.is_leaf() && again.requires_grad());
    // Fewer than 2 dims has no fans.
    let e = init::try_xavier_uniform_(&Tensor::<f64>::zeros(&[5]), 1.0).unwrap_err();
    assert!(e.to_string().contains("fewer than 2 dims"), "{e}");
}

#[test]
fn parameter_count_counts_every_element() {
    let _turn = take_turn();
    let model: Linear<f64> = Linear::new(784, 256);
    assert_eq!(parameter_count(&model), 784 * 256 + 256);
    assert_eq!(
        model.parameters().iter().map(Tensor::numel).sum::<usize>(),
        parameter_count(&model)
    );
}
