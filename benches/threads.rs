//! What a second thread buys each threaded kernel, one thread and two taking turns in one
//! process (`set_num_threads(1)`, then `(2)`, 21 rounds of 10 calls each): the median of
//! the per-round speed-ups, which a shared machine's slow phases leave alone where two
//! separate runs minutes apart do not. The S2 MLP's large products (with the transposed
//! operand its layers read), a square one, and the vector math at 10⁶ and 10⁷.
//!
//!   cargo bench -p tapegrad-benches --bench threads
//!
//! BENCHMARKS.md, "Speed II, eighteenth part", has the figures before and after the
//! calling thread began to take a share of each split (`src/array/fork.rs`).

use std::hint::black_box;
use std::time::Instant;
use tapegrad::{manual_seed, set_num_threads, Tensor};

/// A kernel to time, by name.
type Case<'a> = (&'a str, Box<dyn Fn() -> Tensor + 'a>);

/// Median µs per call of `f` on 1 and 2 threads, and the median of the rounds' ratios.
fn turns(f: &dyn Fn() -> Tensor) -> (f64, f64, f64) {
    let once = || {
        let start = Instant::now();
        for _ in 0..10 {
            black_box(f());
        }
        start.elapsed().as_secs_f64() / 10.0 * 1e6
    };
    for threads in [1, 2] {
        set_num_threads(threads);
        once();
    }
    let (mut one, mut two, mut gain) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..21 {
        set_num_threads(1);
        let a = once();
        set_num_threads(2);
        let b = once();
        one.push(a);
        two.push(b);
        gain.push(a / b);
    }
    set_num_threads(0);
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(&mut one), median(&mut two), median(&mut gain))
}

fn main() {
    manual_seed(0);
    let x: Tensor = Tensor::randn(&[128, 784]);
    let w1: Tensor = Tensor::randn(&[256, 784]);
    let g1: Tensor = Tensor::randn(&[128, 256]);
    let square: Tensor = Tensor::randn(&[512, 512]);
    let big: Tensor = Tensor::randn(&[10_000_000]);
    let mid: Tensor = Tensor::randn(&[1_000_000]);
    let cases: Vec<Case> = vec![
        (
            "x @ w1ᵀ, 128x784 by 784x256 (S2 forward)",
            Box::new(|| x.mm(&w1.t())),
        ),
        (
            "g1ᵀ @ x, 256x128 by 128x784 (S2 weight gradient)",
            Box::new(|| g1.t().mm(&x)),
        ),
        ("512x512 @ 512x512", Box::new(|| square.mm(&square))),
        ("exp 10⁶", Box::new(|| mid.exp())),
        ("mul_scalar 10⁶", Box::new(|| &mid * 0.5)),
        ("exp 10⁷", Box::new(|| big.exp())),
        ("tanh 10⁷", Box::new(|| big.tanh())),
    ];
    println!("| kernel | 1 thread, µs | 2 threads, µs | 1 thread / 2, median of rounds |");
    println!("|---|---:|---:|---:|");
    for (name, f) in &cases {
        let (one, two, gain) = turns(f.as_ref());
        println!("| {name} | {one:.1} | {two:.1} | {gain:.2}× |");
    }
}
