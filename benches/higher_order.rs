//! Issue 9's targets on S2's MLP (784-256-10 ReLU, batch 128, MSE): one gradient (forward
//! and backward for the four parameters, by `autograd::grad`) and one Hessian-vector
//! product for them (`autograd::functional::hvp`), which must cost at most 3 gradients and
//! no more than PyTorch's `hvp` (`benches/higher_order.py`). Threads: TAPEGRAD_NUM_THREADS:
//!     TAPEGRAD_NUM_THREADS=1 cargo bench --bench higher_order
//!     /tmp/tapegrad-anchors/bin/python benches/higher_order.py 1

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::time::Duration;
use tapegrad::autograd::{self, functional::hvp};
use tapegrad::nn::functional::{linear, mse_loss};
use tapegrad::{manual_seed, Tensor};

const B: usize = 128;
const DI: usize = 784;
const H: usize = 256;
const DO: usize = 10;

fn higher_order(c: &mut Criterion) {
    manual_seed(0);
    let x: Tensor = Tensor::randn(&[B, DI]);
    let y: Tensor = Tensor::randn(&[B, DO]);
    let params: Vec<Tensor> = vec![
        Tensor::randn(&[H, DI]) * 0.03,
        Tensor::zeros(&[H]),
        Tensor::randn(&[DO, H]) * 0.06,
        Tensor::zeros(&[DO]),
    ];
    let vs: Vec<Tensor> = params.iter().map(|p| Tensor::randn(p.shape())).collect();
    let loss = |p: &[Tensor]| {
        let hidden = linear(&x, &p[0], Some(&p[1])).relu();
        mse_loss(&linear(&hidden, &p[2], Some(&p[3])), &y)
    };
    let refs: Vec<&Tensor> = params.iter().collect();
    let v_refs: Vec<&Tensor> = vs.iter().collect();

    let mut group = c.benchmark_group("higher_order");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group.bench_function("S2 gradient (forward + backward)", |b| {
        b.iter(|| {
            let ps: Vec<Tensor> = params
                .iter()
                .map(|p| p.detach().requires_grad_(true))
                .collect();
            let p_refs: Vec<&Tensor> = ps.iter().collect();
            black_box(autograd::grad(&[&loss(&ps)], &p_refs, None, false, false).unwrap())
        })
    });
    group.bench_function("S2 hvp", |b| {
        b.iter(|| black_box(hvp(loss, &refs, &v_refs).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, higher_order);
criterion_main!(benches);
