//! candle's W2, W3 and W4, written to match benches/python/lecture_numpy_torch.py: one
//! warm-up loop of 500 steps, then the median of 7 loops of 500 steps, in µs per step,
//! printed as the same JSON lines the Python side prints.
//!
//! With `-- --interleaved`, each candle step instead takes turns with tapegrad's same step
//! (benches/support/workloads.rs, one thread): a loop of 500 steps each, back to back, for
//! 31 rounds, the order swapped every round. It prints each side's median and the median
//! of the rounds' ratios, so a change in the machine's speed (by 2× from one minute to the
//! next on the shared machines of BENCHMARKS.md) falls on both sides alike. Both are built
//! here with the same profile (below in Cargo.toml).
//!
//! Run with `RAYON_NUM_THREADS=1` (candle otherwise re-reads /proc/cpuinfo for every
//! matmul, 25× slower on these tiny ops).

use candle_core::{DType, Device, Result, Tensor, Var};
use candle_nn::{AdamW, Module, Optimizer, ParamsAdamW, VarBuilder, VarMap};
use std::time::Instant;

const N: usize = 64;
const DIN: usize = 4;
const DOUT: usize = 2;
const LR: f64 = 1e-6;
const ADAM_LR: f64 = 1e-4;
const STEPS: usize = 500;
const REPS: usize = 7;
const ROUNDS: usize = 31;

#[path = "../../support/workloads.rs"]
#[allow(dead_code)]
mod workloads;

/// (median, min, max) µs per step of `step`, after one warm-up loop.
fn bench(mut step: impl FnMut() -> Result<()>) -> Result<[f64; 3]> {
    for _ in 0..STEPS {
        step()?;
    }
    let mut per_step = Vec::with_capacity(REPS);
    for _ in 0..REPS {
        let start = Instant::now();
        for _ in 0..STEPS {
            step()?;
        }
        per_step.push(start.elapsed().as_secs_f64() / STEPS as f64 * 1e6);
    }
    per_step.sort_by(f64::total_cmp);
    Ok([per_step[REPS / 2], per_step[0], per_step[REPS - 1]])
}

/// `[candle's median, tapegrad's median, the median ratio]`: µs per step of each, and of
/// candle's loop time over tapegrad's in the same round, after one warm-up loop each.
fn interleave(
    mut candle: impl FnMut() -> Result<()>,
    mut ours: impl FnMut() -> f32,
) -> Result<[f64; 3]> {
    for _ in 0..STEPS {
        candle()?;
        std::hint::black_box(ours());
    }
    let (mut theirs, mut mine, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let mut time_candle = || -> Result<f64> {
            let start = Instant::now();
            for _ in 0..STEPS {
                candle()?;
            }
            Ok(start.elapsed().as_secs_f64() / STEPS as f64 * 1e6)
        };
        let mut time_ours = || {
            let start = Instant::now();
            for _ in 0..STEPS {
                std::hint::black_box(ours());
            }
            start.elapsed().as_secs_f64() / STEPS as f64 * 1e6
        };
        let (c, t) = if round % 2 == 0 {
            let c = time_candle()?;
            (c, time_ours())
        } else {
            let t = time_ours();
            (time_candle()?, t)
        };
        theirs.push(c);
        mine.push(t);
        ratios.push(c / t);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Ok([median(&mut theirs), median(&mut mine), median(&mut ratios)])
}

fn report(workload: &str, variant: &str, [us, lo, hi]: [f64; 3]) {
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "default".into());
    println!(
        "{{\"w\": \"{workload}\", \"sys\": \"candle\", \"var\": \"{variant}\", \"thr\": \"{threads}\", \
         \"steps\": {STEPS}, \"reps\": {REPS}, \"us\": {us:.3}, \"us_min\": {lo:.3}, \"us_max\": {hi:.3}}}"
    );
}

fn main() -> Result<()> {
    let interleaved = std::env::args().any(|a| a == "--interleaved");
    let dev = Device::Cpu;
    let x = Tensor::randn(0f32, 1., (N, DIN), &dev)?;
    let y = Tensor::randn(0f32, 1., (N, DOUT), &dev)?;

    // W2: the gradient by hand, as on the slide.
    let mut w = Tensor::randn(0f32, 1., (DIN, DOUT), &dev)?;
    let w2 = || {
        let y_pred = x.matmul(&w)?;
        let diff = (&y_pred - &y)?;
        let _loss = (diff.sqr()? * 0.5)?.sum_all()?.to_scalar::<f32>()?;
        let grad_w = x.t()?.matmul(&diff)?;
        w = (&w - (grad_w * LR)?)?;
        Ok(())
    };

    // W3: autograd, w a Var updated in place.
    let wv = Var::randn(0f32, 1., (DIN, DOUT), &dev)?;
    let w3 = || {
        let loss = ((x.matmul(wv.as_tensor())? - &y)?.sqr()? * 0.5)?.sum_all()?;
        let grads = loss.backward()?;
        let g = grads.get(wv.as_tensor()).expect("w has a gradient");
        wv.set(&(wv.as_tensor() - (g * LR)?)?)?;
        let _ = loss.to_scalar::<f32>()?;
        Ok(())
    };

    // W4: Sequential(Linear(4, 2)), mse_loss, Adam (candle-nn's AdamW with no decay).
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &dev);
    let model = candle_nn::seq().add(candle_nn::linear(DIN, DOUT, vb.pp("0"))?);
    let params = ParamsAdamW {
        lr: ADAM_LR,
        weight_decay: 0.0,
        ..Default::default()
    };
    let mut opt = AdamW::new(varmap.all_vars(), params)?;
    let w4 = || {
        let loss = candle_nn::loss::mse(&model.forward(&x)?, &y)?;
        opt.backward_step(&loss)?;
        let _ = loss.to_scalar::<f32>()?;
        Ok(())
    };

    if !interleaved {
        report("W2", "manual", bench(w2)?);
        report("W3", "autograd", bench(w3)?);
        report("W4", "Sequential+Adam", bench(w4)?);
        return Ok(());
    }
    tapegrad::set_num_threads(1);
    let manual = workloads::problem(false);
    let auto = workloads::problem(true);
    tapegrad::manual_seed(0);
    let adam = workloads::adam_problem(
        tapegrad::nn::Sequential::new().add(tapegrad::nn::Linear::new(DIN, DOUT)),
    );
    let rows = [
        (
            "W2 (tapegrad: W1)",
            interleave(w2, || workloads::manual_step(&manual))?,
        ),
        ("W3", interleave(w3, || workloads::autograd_step(&auto))?),
        ("W4", interleave(w4, || workloads::adam_step(&adam))?),
    ];
    println!("Interleaved, one thread, {ROUNDS} rounds of {STEPS} steps each; µs per step.");
    println!("| workload | candle | tapegrad | candle / tapegrad, median of rounds |");
    println!("|---|---:|---:|---:|");
    for (name, [c, t, r]) in rows {
        println!("| {name} | {c:.2} | {t:.2} | {r:.2}× |");
    }
    Ok(())
}
