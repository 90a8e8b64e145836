//! `optim::save` / `optim::load`: a run interrupted and resumed from a checkpoint (model
//! and optimizer files) continues bit for bit like the uninterrupted run, for every
//! optimizer configuration; a checkpoint that does not fit is refused, leaving the
//! optimizer unchanged.

use tapegrad::nn::{self, functional::mse_loss, Linear, Module, Relu, Sequential};
use tapegrad::optim::lr_scheduler::{ExponentialLr, LrScheduler, StepLr};
use tapegrad::optim::{self, Adam, AdamW, Optimizer, Sgd};
use tapegrad::{ErrorKind, Tensor};

#[path = "support/generator.rs"]
mod generator;
// model() and data() seed the global generator: each test takes its turn.
use generator::take_turn;

fn model() -> Sequential<f64> {
    tapegrad::manual_seed(7);
    Sequential::new()
        .add(Linear::new(3, 5))
        .add(Relu)
        .add(Linear::new(5, 2))
}

fn data() -> (Tensor<f64>, Tensor<f64>) {
    tapegrad::manual_seed(8);
    (Tensor::randn(&[16, 3]), Tensor::randn(&[16, 2]))
}

fn train(
    model: &Sequential<f64>,
    opt: &mut dyn Optimizer<f64>,
    sched: &mut StepLr<f64>,
    steps: usize,
) {
    let (x, y) = data();
    for _ in 0..steps {
        let loss = mse_loss(&model.forward(&x), &y);
        opt.zero_grad();
        loss.backward();
        opt.step();
        sched.step();
    }
}

fn dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("tapegrad-ckpt-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

type MakeOpt = fn(Vec<Tensor<f64>>) -> Box<dyn Optimizer<f64>>;

#[test]
fn resuming_from_a_checkpoint_continues_bit_for_bit() {
    let _turn = take_turn();
    let configs: [(&str, MakeOpt); 5] = [
        ("sgd", |p| Box::new(Sgd::new(p, 0.05))),
        ("sgd_momentum", |p| {
            Box::new(
                Sgd::new(p, 0.05)
                    .momentum(0.9)
                    .nesterov(true)
                    .weight_decay(0.01),
            )
        }),
        ("adam", |p| Box::new(Adam::new(p, 0.01))),
        ("adam_amsgrad", |p| {
            Box::new(Adam::new(p, 0.01).amsgrad(true).weight_decay(0.1))
        }),
        ("adamw", |p| Box::new(AdamW::new(p, 0.01))),
    ];
    for (name, make) in configs {
        // The uninterrupted run: 12 steps.
        let straight = model();
        let mut opt = make(straight.parameters());
        let mut sched = StepLr::new(&*opt, 4, 0.5);
        train(&straight, &mut *opt, &mut sched, 12);

        // 5 steps, a checkpoint, then a fresh process's objects resuming for 7 more.
        let first = model();
        let mut opt = make(first.parameters());
        let mut sched = StepLr::new(&*opt, 4, 0.5);
        train(&first, &mut *opt, &mut sched, 5);
        let d = dir(name);
        nn::save(&first, d.join("model.safetensors")).unwrap();
        optim::save(&*opt, d.join("optim.safetensors")).unwrap();
        let state = sched.state_dict();
        let named: Vec<(&str, nn::DynTensor)> =
            state.iter().map(|(n, t)| (n.as_str(), t.clone())).collect();
        nn::save_tensors(&named, d.join("schedule.safetensors")).unwrap();

        let resumed = model();
        nn::load(&resumed, d.join("model.safetensors")).unwrap();
        let mut opt = make(resumed.parameters());
        optim::load(&mut *opt, d.join("optim.safetensors")).unwrap();
        let mut sched = StepLr::new(&*opt, 4, 0.5);
        sched
            .load_state_dict(&nn::load_tensors(d.join("schedule.safetensors")).unwrap())
            .unwrap();
        let (x, y) = data();
        for _ in 0..7 {
            let loss = mse_loss(&resumed.forward(&x), &y);
            opt.zero_grad();
            loss.backward();
            opt.step();
            sched.step();
        }
        for ((n, a), (_, b)) in straight
            .named_parameters()
            .into_iter()
            .zip(resumed.named_parameters())
        {
            let (a, b) = (a.to_vec(), b.to_vec());
            assert!(
                a.iter().zip(&b).all(|(p, q)| p.to_bits() == q.to_bits()),
                "{name}: {n} differs after resuming:\n{a:?}\n{b:?}"
            );
        }
        std::fs::remove_dir_all(&d).ok();
    }
}

#[test]
fn a_checkpoint_for_other_parameters_or_another_optimizer_is_refused() {
    let _turn = take_turn();
    let d = dir("bad");
    let path = d.join("adam.safetensors");
    let m = model();
    let mut adam = Adam::new(m.parameters(), 0.01);
    let (x, y) = data();
    mse_loss(&m.forward(&x), &y).backward();
    adam.step();
    optim::save(&adam, &path).unwrap();

    // Another optimizer kind.
    let mut sgd = Sgd::new(model().parameters(), 0.3);
    let e = optim::load(&mut sgd, &path).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Format);
    assert!(e.to_string().contains("momentum"), "{e}");
    assert_eq!(sgd.lr(), 0.3);
    let mut adamw = AdamW::new(model().parameters(), 0.3);
    let e = optim::load(&mut adamw, &path).unwrap_err();
    assert!(e.to_string().contains("for Adam, not AdamW"), "{e}");
    assert_eq!(adamw.lr(), 0.3);

    // Other parameters: a different count, then a different shape.
    let wider: Sequential<f64> = Sequential::new()
        .add(Linear::new(3, 6))
        .add(Linear::new(6, 2));
    let mut other = Adam::new(wider.parameters(), 0.3);
    let e = optim::load(&mut other, &path).unwrap_err();
    assert!(e.to_string().contains("shape"), "{e}");
    let mut fewer = Adam::new(wider.parameters()[..2].to_vec(), 0.3);
    let e = optim::load(&mut fewer, &path).unwrap_err();
    assert!(e.to_string().contains("4 parameters"), "{e}");
    assert_eq!((other.lr(), fewer.lr()), (0.3, 0.3));

    // A model file is not an optimizer checkpoint; a missing file is an I/O error.
    nn::save(&m, d.join("model.safetensors")).unwrap();
    assert!(optim::load(
        &mut Adam::new(model().parameters(), 0.3),
        d.join("model.safetensors")
    )
    .is_err());
    let e = optim::load(&mut Adam::new(model().parameters(), 0.3), d.join("none")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);

    // The refused loads left the optimizer stepping as before: compare with a twin.
    let (m1, m2) = (model(), model());
    let (mut a1, mut a2) = (
        Adam::new(m1.parameters(), 0.01),
        Adam::new(m2.parameters(), 0.01),
    );
    assert!(optim::load(&mut a2, d.join("model.safetensors")).is_err());
    for (m, a) in [(&m1, &mut a1), (&m2, &mut a2)] {
        mse_loss(&m.forward(&x), &y).backward();
        a.step();
    }
    assert_eq!(m1.parameters()[0].to_vec(), m2.parameters()[0].to_vec());
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn a_schedule_state_for_another_schedule_or_settings_is_refused() {
    let _turn = take_turn();
    let m = model();
    let opt = Sgd::new(m.parameters(), 0.1);
    let mut step = StepLr::new(&opt, 3, 0.5);
    for _ in 0..4 {
        step.step();
    }
    let state = step.state_dict();
    let mut other_kind = ExponentialLr::new(&opt, 0.5);
    assert!(other_kind.load_state_dict(&state).is_err());
    let mut other_size = StepLr::new(&opt, 4, 0.5);
    let e = other_size.load_state_dict(&state).unwrap_err();
    assert!(e.to_string().contains("step_size"), "{e}");
    assert_eq!(other_size.get_last_lr(), opt.lr());
    let mut same = StepLr::new(&opt, 3, 0.5);
    same.load_state_dict(&state).unwrap();
    step.step();
    same.step();
    assert_eq!(same.get_last_lr(), step.get_last_lr());
}
