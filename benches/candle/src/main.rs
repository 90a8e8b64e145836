//! candle's W2, W3 and W4, written to match benches/python/lecture_numpy_torch.py: one
//! warm-up loop of 500 steps, then the median of 7 loops of 500 steps, in µs per step,
//! printed as the same JSON lines the Python side prints.
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

fn report(workload: &str, variant: &str, [us, lo, hi]: [f64; 3]) {
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "default".into());
    println!(
        "{{\"w\": \"{workload}\", \"sys\": \"candle\", \"var\": \"{variant}\", \"thr\": \"{threads}\", \
         \"steps\": {STEPS}, \"reps\": {REPS}, \"us\": {us:.3}, \"us_min\": {lo:.3}, \"us_max\": {hi:.3}}}"
    );
}

fn main() -> Result<()> {
    let dev = Device::Cpu;
    let x = Tensor::randn(0f32, 1., (N, DIN), &dev)?;
    let y = Tensor::randn(0f32, 1., (N, DOUT), &dev)?;

    // W2: the gradient by hand, as on the slide.
    let mut w = Tensor::randn(0f32, 1., (DIN, DOUT), &dev)?;
    let w2 = bench(|| {
        let y_pred = x.matmul(&w)?;
        let diff = (&y_pred - &y)?;
        let _loss = (diff.sqr()? * 0.5)?.sum_all()?.to_scalar::<f32>()?;
        let grad_w = x.t()?.matmul(&diff)?;
        w = (&w - (grad_w * LR)?)?;
        Ok(())
    })?;
    report("W2", "manual", w2);

    // W3: autograd, w a Var updated in place.
    let wv = Var::randn(0f32, 1., (DIN, DOUT), &dev)?;
    let w3 = bench(|| {
        let loss = ((x.matmul(wv.as_tensor())? - &y)?.sqr()? * 0.5)?.sum_all()?;
        let grads = loss.backward()?;
        let g = grads.get(wv.as_tensor()).expect("w has a gradient");
        wv.set(&(wv.as_tensor() - (g * LR)?)?)?;
        let _ = loss.to_scalar::<f32>()?;
        Ok(())
    })?;
    report("W3", "autograd", w3);

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
    let w4 = bench(|| {
        let loss = candle_nn::loss::mse(&model.forward(&x)?, &y)?;
        opt.backward_step(&loss)?;
        let _ = loss.to_scalar::<f32>()?;
        Ok(())
    })?;
    report("W4", "Sequential+Adam", w4);
    Ok(())
}
