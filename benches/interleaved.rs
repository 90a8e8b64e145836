//! Comparisons too fine for criterion on a shared machine, whose speed changes by 2× from
//! one minute to the next: criterion runs one benchmark after another, so two of them can
//! land in different phases. Here the contenders take turns, for 100 rounds, and each
//! one's median per call is printed beside the others':
//!
//! - **The transposed add against its floor.** tapegrad's `x + y` and `xᵀ + y` on 10⁶ f32,
//!   one thread, beside the same two adds written bare (benches/support/bare.rs: no
//!   tensor, no allocation, the walk of tapegrad's register path), each also with another
//!   `x` of the same size: on this machine how fast a strided walk reads depends on the
//!   buffer as much as on the code (BENCHMARKS.md, "Speed II, tenth part"). Where the bare
//!   ratio is as large as tapegrad's, the machine's memory sets it, not tapegrad.
//! - **Cold code.** W1 and W3, alone and each after 48 KB of code that does nothing (it
//!   walks the 32 KB level-1 instruction cache through), and that code alone: what a step
//!   pays when its code is not in the cache. `benches/callgrind.sh` gives each step's hot
//!   code in KB.
//! - **Graph against eager.** W6, fed and in-graph, beside W3: the target that a planned
//!   graph step take at most half an eager one.
//!
//! `cargo bench -p tapegrad-benches --bench interleaved` (about a minute).

use std::hint::black_box;
use std::time::Instant;
use tapegrad::Tensor;

mod support {
    pub mod bare;
    // W1, W3 and W6 only: the others are for the lecture bench.
    #[allow(dead_code)]
    pub mod workloads;
}
use support::bare;
use support::workloads::*;

/// Each closure's median time per call in µs, the closures taking turns: `calls` calls
/// each per turn, `rounds` turns, the order reversed every other round.
fn interleave(rounds: usize, calls: usize, contenders: &mut [&mut dyn FnMut()]) -> Vec<f64> {
    let mut times = vec![Vec::with_capacity(rounds); contenders.len()];
    for round in 0..rounds {
        let mut order: Vec<usize> = (0..contenders.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for k in order {
            // One call untimed first: a contender is timed in its own steady state (its
            // buffers where its last call left them, as criterion's repeated calls see
            // them), not in whatever state of the caches the one before it left.
            contenders[k]();
            let start = Instant::now();
            for _ in 0..calls {
                contenders[k]();
            }
            times[k].push(start.elapsed().as_secs_f64() * 1e6 / calls as f64);
        }
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort_by(f64::total_cmp);
            t[t.len() / 2]
        })
        .collect()
}

fn transposed_add() {
    let x: Tensor = Tensor::randn(&[1000, 1000]);
    let y: Tensor = Tensor::randn(&[1000, 1000]);
    let other_x: Tensor = Tensor::randn(&[1000, 1000]);
    let (xt, other_xt) = (x.t(), other_x.t());
    // The bare kernel's buffers start on cache lines, as tapegrad's of this size do.
    let (xs, ys) = (Aligned::copy_of(&x.to_vec()), Aligned::copy_of(&y.to_vec()));
    let mut out = Aligned::copy_of(&vec![0f32; xs.len()]);
    // The bare kernels give tapegrad's results, bit for bit (one f32 add per element).
    bare::add(&xs, &ys, &mut out);
    assert_eq!(*out, (&x + &y).to_vec(), "bare add");
    bare::add_transposed(&xs, &ys, &mut out, 1000);
    assert_eq!(*out, (&xt + &y).to_vec(), "bare transposed add");
    let other_xs = Aligned::copy_of(&xs);
    let out = std::cell::RefCell::new(out);
    let m = interleave(
        100,
        10,
        &mut [
            &mut || drop(black_box(&x + &y)),
            &mut || drop(black_box(&xt + &y)),
            &mut || drop(black_box(&other_x + &y)),
            &mut || drop(black_box(&other_xt + &y)),
            &mut || bare::add(&xs, &ys, black_box(&mut out.borrow_mut())),
            &mut || bare::add_transposed(&xs, &ys, black_box(&mut out.borrow_mut()), 1000),
            &mut || bare::add_transposed(&other_xs, &ys, black_box(&mut out.borrow_mut()), 1000),
        ],
    );
    println!("10⁶ f32, one thread, median µs per call:");
    println!("| | add | add, one operand transposed | ratio |");
    println!("|---|---:|---:|---:|");
    for (name, add, transposed) in [
        ("tapegrad", m[0], m[1]),
        ("tapegrad, another x", m[2], m[3]),
        ("bare kernel", m[4], m[5]),
        ("bare kernel, another copy of x", m[4], m[6]),
    ] {
        println!(
            "| {name} | {add:.0} | {transposed:.0} | {:.2}× |",
            transposed / add
        );
    }
}

/// f32 values starting on a 64-byte cache line. A `Vec` of a million starts 16 bytes past
/// one (glibc's header), and then every other 32-byte access straddles two lines.
struct Aligned {
    buffer: Vec<f32>,
    start: usize,
}

impl Aligned {
    fn copy_of(values: &[f32]) -> Self {
        let mut buffer = vec![0f32; values.len() + 16];
        let start = buffer.as_ptr().align_offset(64);
        buffer[start..start + values.len()].copy_from_slice(values);
        Aligned { buffer, start }
    }
}

impl std::ops::Deref for Aligned {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        &self.buffer[self.start..self.buffer.len() - 16 + self.start]
    }
}

impl std::ops::DerefMut for Aligned {
    fn deref_mut(&mut self) -> &mut [f32] {
        let end = self.buffer.len() - 16 + self.start;
        &mut self.buffer[self.start..end]
    }
}

/// 48 KB of straight-line code that does nothing (8-byte NOPs).
#[cfg(target_arch = "x86_64")]
#[inline(never)]
fn other_code() {
    // SAFETY: NOPs only: no memory, register or flag is read or written.
    unsafe {
        std::arch::asm!(
            ".rept 6144",
            ".byte 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00",
            ".endr",
            options(nomem, nostack, preserves_flags)
        )
    }
}

#[cfg(target_arch = "x86_64")]
fn cold_code() {
    let (manual, auto) = (problem(false), problem(true));
    let m = interleave(
        100,
        1000,
        &mut [
            &mut other_code,
            &mut || {
                black_box(manual_step(&manual));
            },
            &mut || {
                other_code();
                black_box(manual_step(&manual));
            },
            &mut || {
                black_box(autograd_step(&auto));
            },
            &mut || {
                other_code();
                black_box(autograd_step(&auto));
            },
        ],
    );
    println!(
        "\nCold code, one thread, median µs per step; 48 KB of other code alone: {:.2}",
        m[0]
    );
    println!("| | step | after the other code | extra, less the other code |");
    println!("|---|---:|---:|---:|");
    for (name, alone, after) in [("W1", m[1], m[2]), ("W3", m[3], m[4])] {
        println!(
            "| {name} | {alone:.2} | {after:.2} | {:.2} |",
            after - m[0] - alone
        );
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn cold_code() {}

/// W6 (a planned static graph, fed, and in-graph) against eager W3, in turns: the target
/// "W6 ≤ 0.5× W3" compares two benchmarks that criterion runs minutes apart.
fn graph_against_eager() {
    let (eager, fed, in_graph) = (problem(true), feed_dict_graph(), in_graph());
    let m = interleave(
        100,
        1000,
        &mut [
            &mut || {
                black_box(autograd_step(&eager));
            },
            &mut || {
                black_box(feed_dict_step(&fed));
            },
            &mut || {
                black_box(in_graph_step(&in_graph));
            },
        ],
    );
    println!("\nGraph against eager, one thread, median µs per step:");
    println!("| W3 eager | W6 feed dict | W6 in-graph | W6 / W3 | W6 in-graph / W3 |");
    println!("|---:|---:|---:|---:|---:|");
    println!(
        "| {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
        m[0],
        m[1],
        m[2],
        m[1] / m[0],
        m[2] / m[0]
    );
}

fn main() {
    // `cargo bench` passes `--bench`; there is nothing to choose.
    tapegrad::set_num_threads(1);
    transposed_add();
    cold_code();
    graph_against_eager();
}
