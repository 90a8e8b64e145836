//! Tests that seed the global generator (as PyTorch's `manual_seed` does) take turns, so
//! one test's draws never interleave with another's running on the next thread.

use std::sync::{Mutex, MutexGuard, PoisonError};

static GENERATOR: Mutex<()> = Mutex::new(());

pub fn take_turn() -> MutexGuard<'static, ()> {
    GENERATOR.lock().unwrap_or_else(PoisonError::into_inner)
}
