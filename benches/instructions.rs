//! Runs one lecture workload for a given number of steps, for instruction counts that do
//! not depend on the machine's load: `benches/callgrind.sh` runs this under
//! `valgrind --tool=callgrind` twice (with two step counts) and divides the difference, so
//! set-up and warm-up cancel out.
//!
//! `cargo bench --bench instructions -- W4 1000` runs W4 for 1000 steps (after 10 warm-up
//! steps) and prints the time per step. Workloads: W1, W3, W4, W5, W6 (feed dict), W6in
//! (variable + assign), and S2 (the MLP; threads from TAPEGRAD_NUM_THREADS, where the
//! others are run on one).

use std::hint::black_box;
use tapegrad::manual_seed;
use tapegrad::nn::{Linear, Sequential};

#[path = "../examples/07_custom_module.rs"]
#[allow(dead_code)]
mod custom_module;
use custom_module::MyOneLayerNet;

mod support {
    pub mod workloads;
}
use support::workloads::*;

/// Runs the steps and prints their time per step: `benches/python/in_turns.py` runs this
/// binary in turns with NumPy's step (callgrind's counts do not depend on it).
fn run<P>(p: &P, step: fn(&P) -> f32, steps: usize) {
    for _ in 0..10 {
        black_box(step(p));
    }
    let start = std::time::Instant::now();
    for _ in 0..steps {
        black_box(step(p));
    }
    let per_step = start.elapsed().as_secs_f64() / steps.max(1) as f64;
    println!("{:.4} us per step", per_step * 1e6);
}

fn main() {
    // `cargo bench` passes `--bench`; the workload and step count are the other arguments.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let (Some(workload), Some(steps)) = (args.first(), args.get(1)) else {
        eprintln!("usage: instructions <W1|W3|W4|W5|W6|W6in|S2> <steps>");
        std::process::exit(2);
    };
    let steps: usize = steps.parse().expect("a step count");
    match workload.as_str() {
        "W1" => run(&problem(false), manual_step, steps),
        "W3" => run(&problem(true), autograd_step, steps),
        "W4" => {
            manual_seed(0);
            run(
                &adam_problem(Sequential::new().add(Linear::new(4, 2))),
                adam_step,
                steps,
            )
        }
        "W5" => {
            manual_seed(0);
            run(&adam_problem(MyOneLayerNet::new(4, 2)), adam_step, steps)
        }
        "W6" => run(&feed_dict_graph(), feed_dict_step, steps),
        "W6in" => run(&in_graph(), in_graph_step, steps),
        "S2" => run(&mlp_problem(), adam_step, steps),
        other => {
            eprintln!("unknown workload {other}");
            std::process::exit(2);
        }
    }
}
