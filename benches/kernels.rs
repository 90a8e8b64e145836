//! Kernel benchmarks: matmul (f32/f64, the lecture's tiny shapes up to 2048²), elementwise
//! ops and reductions at 1e3 and 1e6 elements.
//!
//! `cargo bench --bench kernels`; one group: `cargo bench --bench kernels -- matmul_f32`.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Duration;
use tapegrad::Tensor;

fn matmul<T: tapegrad::Float>(c: &mut Criterion, name: &str) {
    let mut group = c.benchmark_group(name);
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    let a: Tensor<T> = Tensor::randn(&[64, 4]);
    let b: Tensor<T> = Tensor::randn(&[4, 2]);
    group.bench_function("64x4*4x2", |bench| bench.iter(|| black_box(a.mm(&b))));
    for n in [128usize, 256, 512, 1024, 2048] {
        let a: Tensor<T> = Tensor::randn(&[n, n]);
        let b: Tensor<T> = Tensor::randn(&[n, n]);
        group.throughput(Throughput::Elements(2 * (n as u64).pow(3))); // flops: read "elements/s" as FLOP/s
        group.bench_with_input(BenchmarkId::new("square", n), &n, |bench, _| {
            bench.iter(|| black_box(a.mm(&b)))
        });
    }
    let n = 512;
    let a: Tensor<T> = Tensor::randn(&[n, n]);
    group.throughput(Throughput::Elements(2 * (n as u64).pow(3)));
    group.bench_function("transposed 512 (aᵀa, strides, no copy)", |bench| {
        bench.iter(|| black_box(a.t().mm(&a)))
    });
    group.finish();
}

fn matmul_f32(c: &mut Criterion) {
    matmul::<f32>(c, "matmul_f32");
}

fn matmul_f64(c: &mut Criterion) {
    matmul::<f64>(c, "matmul_f64");
}

fn elementwise(c: &mut Criterion) {
    let mut group = c.benchmark_group("elementwise_f32");
    group
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    for n in [1_000usize, 1_000_000] {
        let a: Tensor = Tensor::randn(&[n / 1000, 1000]);
        let b: Tensor = Tensor::randn(&[n / 1000, 1000]);
        let row: Tensor = Tensor::randn(&[1000]);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("add", n), &n, |bench, _| {
            bench.iter(|| black_box(&a + &b))
        });
        group.bench_with_input(BenchmarkId::new("add broadcast row", n), &n, |bench, _| {
            bench.iter(|| black_box(&a + &row))
        });
        group.bench_with_input(BenchmarkId::new("mul scalar", n), &n, |bench, _| {
            bench.iter(|| black_box(&a * 0.5))
        });
        group.bench_with_input(BenchmarkId::new("exp", n), &n, |bench, _| {
            bench.iter(|| black_box(a.exp()))
        });
        group.bench_with_input(BenchmarkId::new("add transposed", n), &n, |bench, _| {
            let at = a.reshape(&[1000, n / 1000]).t();
            bench.iter(|| black_box(&at + &b))
        });
    }
    group.finish();
}

fn reductions(c: &mut Criterion) {
    let mut group = c.benchmark_group("reduce_f32");
    group
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    for n in [1_000usize, 1_000_000] {
        let a: Tensor = Tensor::randn(&[n / 1000, 1000]);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("sum", n), &n, |bench, _| {
            bench.iter(|| black_box(a.sum()))
        });
        group.bench_with_input(BenchmarkId::new("sum_dim 0", n), &n, |bench, _| {
            bench.iter(|| black_box(a.sum_dim(0, false)))
        });
        group.bench_with_input(BenchmarkId::new("sum_dim 1", n), &n, |bench, _| {
            bench.iter(|| black_box(a.sum_dim(1, false)))
        });
        group.bench_with_input(BenchmarkId::new("max_dim 1", n), &n, |bench, _| {
            bench.iter(|| black_box(a.max_dim(1, false)))
        });
    }
    group.finish();
}

fn small_ops(c: &mut Criterion) {
    // The lecture's sizes: what one op costs when the arithmetic is nothing.
    let mut group = c.benchmark_group("overhead_64x2");
    group
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    let a: Tensor = Tensor::randn(&[64, 2]);
    let b: Tensor = Tensor::randn(&[64, 2]);
    group.bench_function("sub", |bench| bench.iter(|| black_box(&a - &b)));
    group.bench_function("mul scalar", |bench| bench.iter(|| black_box(&a * 0.5)));
    group.bench_function("sum", |bench| bench.iter(|| black_box(a.sum())));
    group.bench_function("t (view)", |bench| bench.iter(|| black_box(a.t())));
    group.bench_function("clone", |bench| bench.iter(|| black_box(a.clone())));
    group.finish();
}

fn model_ops(c: &mut Criterion) {
    // Issue 7's speed targets, on 10^6 f32 elements: the same workloads as
    // benches/model_ops.py runs in PyTorch (1 thread, same machine, same run).
    let mut group = c.benchmark_group("model_ops_f32");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    tapegrad::manual_seed(0);
    let x: Tensor = Tensor::randn(&[1000, 1000]);
    let y: Tensor = Tensor::randn(&[1000, 1000]);
    let quarter: Tensor = Tensor::randn(&[250, 1000]);
    let rows = Tensor::randint(0, 1000, &[1000]);
    let lanes = Tensor::randint(0, 1000, &[1000, 1000]);
    let mask = x.gt(0.0);
    group.throughput(Throughput::Elements(1_000_000));
    group.bench_function("cat 4 x [250, 1000]", |bench| {
        bench.iter(|| black_box(Tensor::cat(&[&quarter, &quarter, &quarter, &quarter], 0)))
    });
    group.bench_function("index_select dim 0", |bench| {
        bench.iter(|| black_box(x.index_select(0, &rows)))
    });
    group.bench_function("gather dim 1", |bench| {
        bench.iter(|| black_box(x.gather(1, &lanes)))
    });
    group.bench_function("where_cond", |bench| {
        bench.iter(|| black_box(mask.where_cond(&x, &y)))
    });
    group.bench_function("clamp", |bench| {
        bench.iter(|| black_box(x.clamp(-0.5, 0.5)))
    });
    group.bench_function("sort last dim", |bench| {
        bench.iter(|| black_box(x.sort(-1, false)))
    });
    group.bench_function("cumsum last dim", |bench| {
        bench.iter(|| black_box(x.cumsum(-1)))
    });
    group.finish();
}

fn speed2(c: &mut Criterion) {
    // Issue 13's kernel targets: the same workloads as benches/python/kernels.py runs in
    // PyTorch, with the thread count from TAPEGRAD_NUM_THREADS (compare.py sets both).
    let mut group = c.benchmark_group("speed2_f32");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    tapegrad::manual_seed(0);
    for (label, n) in [("1e6", 1_000_000usize), ("1e7", 10_000_000)] {
        let x: Tensor = Tensor::randn(&[n / 1000, 1000]);
        let positive = x.abs() + 0.1;
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("exp {label}"), |b| b.iter(|| black_box(x.exp())));
        group.bench_function(format!("log {label}"), |b| {
            b.iter(|| black_box(positive.log()))
        });
        group.bench_function(format!("tanh {label}"), |b| b.iter(|| black_box(x.tanh())));
        group.bench_function(format!("sigmoid {label}"), |b| {
            b.iter(|| black_box(x.sigmoid()))
        });
        group.bench_function(format!("gelu {label}"), |b| b.iter(|| black_box(x.gelu())));
        // No math, the same walk: what reading and writing the memory alone costs, the
        // floor under the functions above (on a machine whose memory one core saturates,
        // a second thread cannot speed up any of them at 10⁷).
        group.bench_function(format!("mul_scalar {label}"), |b| {
            b.iter(|| black_box(&x * 2.0))
        });
    }
    let x: Tensor = Tensor::randn(&[1000, 1000]);
    let y: Tensor = Tensor::randn(&[1000, 1000]);
    group.throughput(Throughput::Elements(1_000_000));
    group.bench_function("max_dim 1 [1000, 1000]", |b| {
        b.iter(|| black_box(x.max_dim(1, false)))
    });
    group.bench_function("add 1e6", |b| b.iter(|| black_box(&x + &y)));
    let xt = x.t();
    group.bench_function("add transposed 1e6", |b| b.iter(|| black_box(&xt + &y)));
    // The transposed operand's data movement alone (read across its rows, written out
    // row-major, no arithmetic): the floor under the add above, in both libraries.
    group.bench_function("contiguous of transposed 1e6", |b| {
        b.iter(|| black_box(xt.contiguous()))
    });
    let logits: Tensor = Tensor::randn(&[1024, 1000]).requires_grad_(true);
    let labels = Tensor::randint(0, 1000, &[1024]);
    group.throughput(Throughput::Elements(1024 * 1000));
    group.bench_function("softmax + cross_entropy fwd+bwd [1024, 1000]", |b| {
        b.iter(|| {
            logits.clear_grad(); // as PyTorch's `logits.grad = None`
            let loss = tapegrad::nn::functional::cross_entropy(&logits, &labels);
            loss.backward();
            black_box(loss.item())
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    speed2,
    model_ops,
    small_ops,
    matmul_f32,
    matmul_f64,
    elementwise,
    reductions
);
criterion_main!(benches);
