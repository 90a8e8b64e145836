//! The property tests' configuration: a fixed seed keeps CI reproducible; set
//! `TAPEGRAD_PROPTEST_SEED` to explore others.

use proptest::test_runner::{Config, RngSeed};

pub fn config(cases: u32) -> Config {
    let seed = std::env::var("TAPEGRAD_PROPTEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_127);
    Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        ..Config::default()
    }
}
