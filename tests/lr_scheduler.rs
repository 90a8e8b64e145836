//! The schedulers' `get_last_lr()` sequences against PyTorch's
//! (`fixtures/lr_scheduler_reference.py`, whose Python is beside each case), bit for bit,
//! and the optimizer's `lr()` following them without a borrow.

use tapegrad::optim::lr_scheduler::{
    CosineAnnealingLr, ExponentialLr, LinearLr, LrScheduler, MultiStepLr, OneCycleLr,
    ReduceLrOnPlateau, StepLr,
};
use tapegrad::optim::{Adam, Optimizer, Sgd};
use tapegrad::Tensor;

const METRICS: [f64; 20] = [
    1.0, 0.9, 0.95, 0.93, 0.94, 0.96, 0.97, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99,
    1.0, 1.01, 1.02, 1.03,
];

fn reference(name: &str) -> Vec<f64> {
    let line = include_str!("fixtures/lr_scheduler_reference.txt")
        .lines()
        .find(|l| l.split(' ').next() == Some(name))
        .unwrap_or_else(|| panic!("no reference for {name}"));
    line.split(' ')
        .skip(1)
        .map(|v| v.parse().unwrap())
        .collect()
}

fn opt() -> Sgd<f64> {
    Sgd::new(vec![Tensor::zeros(&[1]).requires_grad_(true)], 0.1)
}

/// Runs a scheduler as PyTorch's loop does and collects the rates the optimizer sees.
fn run(mut opt: Sgd<f64>, mut s: Box<dyn LrScheduler<f64>>, steps: usize) -> Vec<f64> {
    let mut lrs = vec![s.get_last_lr()];
    assert_eq!(opt.lr(), s.get_last_lr());
    for _ in 0..steps {
        opt.step();
        s.step();
        assert_eq!(
            opt.lr(),
            s.get_last_lr(),
            "the optimizer follows the schedule"
        );
        lrs.push(s.get_last_lr());
    }
    lrs
}

#[test]
fn epoch_schedules_match_pytorch_bit_for_bit() {
    type Make = fn(&Sgd<f64>) -> Box<dyn LrScheduler<f64>>;
    let cases: [(&str, Make, usize); 6] = [
        ("step", |o| Box::new(StepLr::new(o, 7, 0.5)), 40),
        (
            "multistep",
            |o| Box::new(MultiStepLr::new(o, &[10, 25], 0.3)),
            40,
        ),
        ("exponential", |o| Box::new(ExponentialLr::new(o, 0.93)), 40),
        (
            "cosine",
            |o| Box::new(CosineAnnealingLr::new(o, 10, 0.001)),
            40,
        ),
        ("linear", |o| Box::new(LinearLr::new(o, 0.25, 1.0, 8)), 40),
        ("onecycle", |o| Box::new(OneCycleLr::new(o, 0.5, 40)), 39),
    ];
    for (name, make, steps) in cases {
        let o = opt();
        let s = make(&o);
        assert_eq!(run(o, s, steps), reference(name), "{name}");
    }
}

#[test]
fn plateau_schedules_match_pytorch_bit_for_bit() {
    let o = opt();
    let mut s = ReduceLrOnPlateau::new(&o).patience(2);
    let lrs: Vec<f64> = METRICS
        .iter()
        .map(|&m| {
            s.step(m);
            s.get_last_lr()
        })
        .collect();
    assert_eq!(lrs, reference("plateau"));
    assert_eq!(o.lr(), *lrs.last().unwrap());

    let o = opt();
    let mut s = ReduceLrOnPlateau::new(&o)
        .mode_max()
        .factor(0.5)
        .patience(1)
        .cooldown(2)
        .threshold(0.01, false)
        .min_lr(0.02);
    let lrs: Vec<f64> = METRICS
        .iter()
        .map(|&m| {
            s.step(m);
            s.get_last_lr()
        })
        .collect();
    assert_eq!(lrs, reference("plateau_max_cooldown"));
}

#[test]
fn a_schedule_drives_a_dyn_optimizer_and_stops_where_pytorch_does() {
    let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
    let mut opt: Box<dyn Optimizer> = Box::new(Adam::new(vec![w.clone()], 0.01));
    let mut s = CosineAnnealingLr::new(&*opt, 5, 0.0);
    for _ in 0..5 {
        (&w * &w).sum().backward();
        opt.step();
        opt.zero_grad();
        s.step();
    }
    assert!(opt.lr().abs() < 1e-9, "{}", opt.lr());
    let mut one = OneCycleLr::new(&*opt, 0.1, 3);
    for _ in 0..3 {
        one.step(); // PyTorch allows last_epoch to reach total_steps
    }
    let before = opt.lr();
    assert!(one.try_step().is_err()); // then refuses, as its ValueError
    assert_eq!(opt.lr(), before);
    assert!(StepLr::try_new(&*opt, 0, 0.5).is_err());
    assert!(LinearLr::try_new(&*opt, 1.5, 1.0, 3).is_err());
}
