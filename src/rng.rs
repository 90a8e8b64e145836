//! The seeded random generator behind `randn`, `rand` and `Linear::new`.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::sync::{LazyLock, Mutex, PoisonError};

/// Like PyTorch, a fresh process starts from a fixed seed, so an unseeded program is
/// reproducible too; `manual_seed` picks another stream.
const DEFAULT_SEED: u64 = 67_280_421_310_721;

static GENERATOR: LazyLock<Mutex<ChaCha8Rng>> =
    LazyLock::new(|| Mutex::new(ChaCha8Rng::seed_from_u64(DEFAULT_SEED)));

/// Seeds the generator that `randn`, `rand` and `Linear::new` draw from, like
/// `torch.manual_seed`. The same seed gives the same numbers on every run and machine
/// (ChaCha8, a specified stream). The generator is shared by all threads.
///
/// ```
/// use tapegrad::{manual_seed, Tensor};
/// manual_seed(7);
/// let a: Tensor = Tensor::randn(&[3]);
/// manual_seed(7);
/// let b: Tensor = Tensor::randn(&[3]);
/// assert_eq!(a.to_vec(), b.to_vec());
/// ```
pub fn manual_seed(seed: u64) {
    *GENERATOR.lock().unwrap_or_else(PoisonError::into_inner) = ChaCha8Rng::seed_from_u64(seed);
}

/// Runs `f` with the shared generator locked.
pub(crate) fn with_rng<R>(f: impl FnOnce(&mut ChaCha8Rng) -> R) -> R {
    f(&mut GENERATOR.lock().unwrap_or_else(PoisonError::into_inner))
}
