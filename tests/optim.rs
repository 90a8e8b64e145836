//! Optimizers against PyTorch: 25 steps of every configuration, in f64 and f32.
//!
//! The trajectories come from `tests/fixtures/pytorch_reference.py` (PyTorch 2.15): the
//! problem is `loss = mean((tanh(X @ w + b) - Y)²)` with a third parameter `unused` that
//! never gets a gradient, so PyTorch skips it (and so must we, weight decay included).
//! Configurations marked `schedule` halve the learning rate after step 10.

use tapegrad::optim::{Adam, AdamW, Optimizer, Sgd};
use tapegrad::Float;
use tapegrad::{ErrorKind, Tensor};

/// PyTorch's trajectory for one configuration, from tests/fixtures/optim_trajectories.txt:
/// after a line with the configuration's name, one line of 8 numbers per step.
fn pytorch_trajectory(name: &str) -> Vec<[f64; 8]> {
    let text = include_str!("fixtures/optim_trajectories.txt");
    let rows: Vec<[f64; 8]> = text
        .lines()
        .skip_while(|line| *line != name)
        .skip(1)
        .take_while(|line| line.starts_with(|c: char| c == '-' || c.is_ascii_digit()))
        .map(|line| {
            let values: Vec<f64> = line
                .split(' ')
                .map(|v| v.parse().expect("a number"))
                .collect();
            values.try_into().expect("8 numbers per step")
        })
        .collect();
    assert_eq!(rows.len(), 25, "{name}: 25 steps in the fixture");
    rows
}

const X: [f64; 8] = [0.5, -1.0, 1.5, 0.25, -0.75, 2.0, 1.0, 1.0];
const Y: [f64; 8] = [0.2, -0.4, 0.9, 0.1, -0.3, 0.6, 0.5, -0.5];
const W0: [f64; 4] = [0.3, -0.2, 0.1, 0.4];
const B0: [f64; 2] = [0.05, -0.1];

fn cast<T: Float>(v: &[f64]) -> Vec<T> {
    v.iter().map(|&x| T::from(x).unwrap()).collect()
}

/// What the tests need of an optimizer: its steps, and `set_lr` for the schedule.
trait Scheduled<T: Float>: Optimizer<T> {
    fn halve_lr(&mut self);
}

macro_rules! scheduled {
    ($($ty:ident),*) => {$(
        impl<T: Float> Scheduled<T> for $ty<T> {
            fn halve_lr(&mut self) {
                let lr = self.lr();
                self.set_lr(lr * T::from(0.5).unwrap());
            }
        }
    )*};
}
scheduled!(Sgd, Adam, AdamW);

/// Runs 25 steps and compares w, b and unused after each with PyTorch's values.
fn check<T: Float + std::fmt::Debug + 'static>(
    name: &str,
    make: impl Fn(Vec<Tensor<T>>) -> Box<dyn Scheduled<T>>,
    schedule: bool,
    expected: &[[f64; 8]],
    tol: f64,
) {
    let x = Tensor::from_vec(cast::<T>(&X), &[4, 2]);
    let y = Tensor::from_vec(cast::<T>(&Y), &[4, 2]);
    let w = Tensor::from_vec(cast::<T>(&W0), &[2, 2]).requires_grad_(true);
    let b = Tensor::from_vec(cast::<T>(&B0), &[2]).requires_grad_(true);
    let unused = Tensor::from_vec(cast::<T>(&[1.0, -1.0]), &[2]).requires_grad_(true);
    let mut opt = make(vec![w.clone(), b.clone(), unused.clone()]);
    for (step, row) in expected.iter().enumerate() {
        if schedule && step == 10 {
            opt.halve_lr();
        }
        let loss = ((x.mm(&w) + &b).tanh() - &y)
            .pow(T::from(2.0).unwrap())
            .mean();
        opt.zero_grad();
        loss.backward();
        opt.step();
        let got: Vec<f64> = [w.to_vec(), b.to_vec(), unused.to_vec()]
            .concat()
            .iter()
            .map(|v| v.to_f64().unwrap())
            .collect();
        for (i, (g, e)) in got.iter().zip(row).enumerate() {
            assert!(
                (g - e).abs() <= tol * (1.0 + e.abs()),
                "{name}: step {} element {i}: {g} vs PyTorch {e}\n  got {got:?}\n  want {row:?}",
                step + 1
            );
        }
    }
}

/// Every configuration of the script, for one float type: `$suffix` picks its tables.
macro_rules! all_configs {
    ($t:ty, $tol:expr, $($table:ident: $schedule:expr => $make:expr;)*) => {$(
        check::<$t>(stringify!($table), $make, $schedule, &pytorch_trajectory(stringify!($table)), $tol);
    )*};
}

#[test]
fn should_follow_pytorchs_trajectories_in_f64() {
    all_configs! { f64, 1e-12,
        SGD_F64: false => |p| Box::new(Sgd::new(p, 0.1));
        SGD_MOMENTUM_F64: false => |p| Box::new(Sgd::new(p, 0.1).momentum(0.9));
        SGD_DAMPENING_F64: false => |p| Box::new(Sgd::new(p, 0.1).momentum(0.9).dampening(0.3));
        SGD_NESTEROV_F64: false => |p| Box::new(Sgd::new(p, 0.1).momentum(0.8).nesterov(true));
        SGD_WEIGHT_DECAY_F64: false => |p| Box::new(Sgd::new(p, 0.1).momentum(0.5).weight_decay(0.1));
        SGD_MAXIMIZE_SCHEDULE_F64: true => |p| Box::new(Sgd::new(p, 0.05).maximize(true));
        ADAM_F64: false => |p| Box::new(Adam::new(p, 0.05));
        ADAM_WEIGHT_DECAY_F64: false => |p| Box::new(Adam::new(p, 0.05).weight_decay(0.1));
        ADAM_AMSGRAD_F64: false => |p| Box::new(Adam::new(p, 0.05).amsgrad(true));
        ADAM_BETAS_EPS_SCHEDULE_F64: true => |p| Box::new(Adam::new(p, 0.05).betas(0.8, 0.99).eps(1e-3));
        ADAMW_F64: false => |p| Box::new(AdamW::new(p, 0.05));
        ADAMW_AMSGRAD_DECAY_F64: false => |p| Box::new(AdamW::new(p, 0.05).weight_decay(0.3).amsgrad(true));
    }
}

#[test]
fn should_follow_pytorchs_trajectories_in_f32() {
    // f32 rounding differs between PyTorch's vectorised kernels (fused multiply-adds) and
    // ours, by an ulp here and there; after 25 steps that stays within a few 1e-7.
    all_configs! { f32, 2e-6,
        SGD_F32: false => |p| Box::new(Sgd::new(p, 0.1));
        SGD_MOMENTUM_F32: false => |p| Box::new(Sgd::new(p, 0.1).momentum(0.9));
        SGD_DAMPENING_F32: false => |p| Box::new(Sgd::new(p, 0.1).momentum(0.9).dampening(0.3));
        SGD_NESTEROV_F32: false => |p| Box::new(Sgd::new(p, 0.1).momentum(0.8).nesterov(true));
        SGD_WEIGHT_DECAY_F32: false => |p| Box::new(Sgd::new(p, 0.1).momentum(0.5).weight_decay(0.1));
        SGD_MAXIMIZE_SCHEDULE_F32: true => |p| Box::new(Sgd::new(p, 0.05).maximize(true));
        ADAM_F32: false => |p| Box::new(Adam::new(p, 0.05));
        ADAM_WEIGHT_DECAY_F32: false => |p| Box::new(Adam::new(p, 0.05).weight_decay(0.1));
        ADAM_AMSGRAD_F32: false => |p| Box::new(Adam::new(p, 0.05).amsgrad(true));
        ADAM_BETAS_EPS_SCHEDULE_F32: true => |p| Box::new(Adam::new(p, 0.05).betas(0.8, 0.99).eps(1e-3));
        ADAMW_F32: false => |p| Box::new(AdamW::new(p, 0.05));
        ADAMW_AMSGRAD_DECAY_F32: false => |p| Box::new(AdamW::new(p, 0.05).weight_decay(0.3).amsgrad(true));
    }
}

#[test]
fn should_refuse_what_pytorch_refuses() {
    let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
    let e = Sgd::try_new(vec![w.clone()], -0.1).unwrap_err();
    assert_eq!(
        (e.kind(), e.to_string().as_str()),
        (
            ErrorKind::Value,
            "Sgd: invalid learning rate -0.1 (must be finite and >= 0)"
        )
    );
    let computed = &w * 2.0;
    let e = Adam::try_new(vec![computed], 0.1).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Adam: parameter 0 (shape [2]) is not a leaf tensor: it was computed by MulBackward; optimize the tensor it came from"
    );
    let e = AdamW::try_new(vec![w.clone(), w.clone()], 0.1).unwrap_err();
    assert_eq!(
        e.to_string(),
        "AdamW: parameters 0 and 1 are the same tensor (shape [2]); it would be stepped twice"
    );
    let panic = std::panic::catch_unwind(|| {
        Adam::new(vec![Tensor::<f32>::ones(&[1])], 0.1).betas(0.9, 1.0)
    });
    let message = *panic.unwrap_err().downcast::<String>().unwrap();
    assert_eq!(message, "Adam: invalid beta2 1.0 (must be in [0, 1))");
    // Refused when configured, not at the first step (issue 15).
    let panic = std::panic::catch_unwind({
        let w = w.clone();
        move || Sgd::new(vec![w], 0.1).nesterov(true)
    });
    let message = *panic.unwrap_err().downcast::<&str>().unwrap();
    assert_eq!(
        message,
        "Sgd: nesterov momentum requires a momentum > 0 and zero dampening (set the momentum before nesterov)"
    );
    let dampened = std::panic::catch_unwind({
        let w = w.clone();
        move || {
            Sgd::new(vec![w], 0.1)
                .momentum(0.9)
                .nesterov(true)
                .dampening(0.1)
        }
    });
    assert!(dampened.is_err());
    // An infinite or NaN rate is refused at construction and by set_lr, which keeps the old.
    for bad in [f32::INFINITY, f32::NAN, -1.0] {
        assert_eq!(
            Adam::try_new(vec![w.clone()], bad).unwrap_err().kind(),
            ErrorKind::Value
        );
    }
    let mut adam = AdamW::new(vec![w.clone()], 0.1);
    assert!(adam.try_set_lr(f32::NAN).is_err());
    assert_eq!(adam.lr(), 0.1);
    let mut sgd = Sgd::new(vec![w], 0.1);
    let e = sgd.try_set_lr(f32::INFINITY).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Sgd: invalid learning rate inf (must be finite and >= 0)"
    );
}

#[test]
fn should_refuse_backward_through_a_graph_whose_parameters_a_step_changed() {
    // A step writes the parameters in place (bumping their version, as PyTorch's in-place
    // updates do): a graph that saved the old values must not backward again silently.
    let w: Tensor<f64> = Tensor::from_vec(vec![1.0, 2.0], &[2]).requires_grad_(true);
    let loss = (&w * &w).sum();
    loss.backward_with(true);
    let mut sgd = Sgd::new(vec![w.clone()], 0.1);
    sgd.step();
    assert_eq!(w.to_vec(), vec![0.8, 1.6]);
    let e = loss.try_backward().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Autograd, "{e}");
}

/// Builds an optimizer over the given parameters.
type MakeOptimizer = fn(Vec<Tensor>) -> Box<dyn Optimizer>;

#[test]
fn should_give_the_same_bits_for_large_and_small_parameters() {
    // Large tensors take a SIMD path (AVX-512 where the CPU has it), small ones a scalar
    // loop: the same values split into 50-element tensors must follow the same bits.
    let values: Vec<f32> = (0..1000)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0)
        .collect();
    let configs: [MakeOptimizer; 4] = [
        |p| Box::new(Adam::new(p, 0.01)),
        |p| Box::new(Adam::new(p, 0.01).amsgrad(true).weight_decay(0.1)),
        |p| Box::new(AdamW::new(p, 0.01)),
        |p| Box::new(Sgd::new(p, 0.01).momentum(0.9).nesterov(true)),
    ];
    for (c, make) in configs.iter().enumerate() {
        let big = Tensor::from_vec(values.clone(), &[1000]).requires_grad_(true);
        let small: Vec<Tensor> = values
            .chunks(50)
            .map(|chunk| Tensor::from_vec(chunk.to_vec(), &[50]).requires_grad_(true))
            .collect();
        let (mut big_opt, mut small_opt) = (make(vec![big.clone()]), make(small.clone()));
        for _ in 0..10 {
            // An elementwise loss, so each element's gradient is the same in both layouts.
            big_opt.zero_grad();
            (&big * &big * &big).sum().backward();
            big_opt.step();
            small_opt.zero_grad();
            for p in &small {
                (p * p * p).sum().backward();
            }
            small_opt.step();
        }
        let joined: Vec<u32> = small
            .iter()
            .flat_map(|p| p.to_vec())
            .map(f32::to_bits)
            .collect();
        let big_bits: Vec<u32> = big.to_vec().into_iter().map(f32::to_bits).collect();
        assert_eq!(big_bits, joined, "configuration {c}");
    }
}

#[test]
fn should_give_the_same_bits_on_one_thread_and_two() {
    // Parameters of 2^17 elements and more are updated in one piece per thread; each
    // element's update is its own, so the split must not change a bit. An odd length
    // leaves the last piece short.
    let values: Vec<f32> = (0..200_003)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0)
        .collect();
    let configs: [MakeOptimizer; 3] = [
        |p| Box::new(Adam::new(p, 0.01)),
        |p| Box::new(Adam::new(p, 0.01).amsgrad(true).weight_decay(0.1)),
        |p| Box::new(AdamW::new(p, 0.01).amsgrad(true)),
    ];
    for (c, make) in configs.iter().enumerate() {
        let run = |threads| {
            tapegrad::set_num_threads(threads);
            let p = Tensor::from_vec(values.clone(), &[values.len()]).requires_grad_(true);
            let mut opt = make(vec![p.clone()]);
            for _ in 0..3 {
                opt.zero_grad();
                (&p * &p * &p).sum().backward();
                opt.step();
            }
            tapegrad::set_num_threads(0);
            p.to_vec()
                .into_iter()
                .map(f32::to_bits)
                .collect::<Vec<u32>>()
        };
        assert_eq!(run(1), run(2), "configuration {c}");
    }
}
