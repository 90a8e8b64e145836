//! Fork-join on rayon's pool in which the calling thread takes part and never waits for a
//! thread that has not started.
//!
//! Under `rayon::scope`, a thread outside the pool (the user's) hands every piece to the
//! pool and sleeps until the pool's threads have done them all, and even
//! `rayon::in_place_scope` waits for every spawned job to run. On a virtual machine a
//! sleeping thread wakes through the host's scheduler, tens to hundreds of microseconds
//! later, so two threads could be slower than one: the S2 MLP's `128x784 @ 784x256`
//! product ran 1.15× as fast on two threads as on one and `exp` on 10⁶ elements 0.57×,
//! where PyTorch, whose threads spin between parallel regions, gained 1.8× in the same
//! minutes (BENCHMARKS.md, "Speed II, eighteenth part").
//!
//! Here the pieces are claimed from a shared counter, by the calling thread and by helper
//! jobs on the pool alike. The caller works through the pieces itself; a helper that
//! starts late finds nothing left and returns, and the caller waits only for pieces a
//! helper has claimed and is running. At worst this is one thread's time.

use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// What the caller and its helpers share. It outlives the caller's call (a helper may
/// start after the caller returned), so it holds no borrow: `run` points into the
/// caller's frame and is called only for a claimed piece, which the caller waits for.
struct Shared {
    /// The next piece to claim; a claim of `n` or more gets nothing.
    next: AtomicUsize,
    /// Pieces finished (or panicked).
    done: AtomicUsize,
    n: usize,
    /// Runs piece `i` (`i < n`), catching its panic.
    run: *const (dyn Fn(usize) + Sync),
}

// SAFETY: `run` is a `Sync` closure, called from any thread only for a claimed piece
// while the caller's frame that owns it waits (see `fork_join`); the rest is atomics.
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}

impl Shared {
    /// Claims and runs pieces until none is left.
    fn work(&self) {
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.n {
                return;
            }
            // SAFETY: piece `i < n` is claimed by this thread alone, and `fork_join` does
            // not return (nor let `run` go) before `done` counts it.
            unsafe { (*self.run)(i) };
            self.done.fetch_add(1, Ordering::Release);
        }
    }
}

/// Runs `work` on every piece, on this thread and on up to `helpers` of rayon's; returns
/// when all are done. Which thread runs a piece depends on timing, but each piece is the
/// same work either way. A panic in any piece is raised here, with its own payload, after
/// every piece has finished.
pub(crate) fn fork_join<I: Send>(pieces: impl Iterator<Item = I>, work: impl Fn(I) + Sync) {
    let pieces: Vec<Mutex<Option<I>>> = pieces.map(|p| Mutex::new(Some(p))).collect();
    let n = pieces.len();
    let helpers = (super::num_threads().min(n)).saturating_sub(1);
    let panicked: Mutex<Option<Box<dyn Any + Send>>> = Mutex::new(None);
    let run = |i: usize| {
        let piece = pieces[i]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(piece) = piece else { return };
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| work(piece))) {
            let mut first = panicked.lock().unwrap_or_else(PoisonError::into_inner);
            first.get_or_insert(payload);
        }
    };
    let run: &(dyn Fn(usize) + Sync) = &run;
    // SAFETY: only the lifetime is erased. `Shared::work` calls `run` for claimed pieces
    // only, and this function does not return before every claimed piece is done.
    let run: *const (dyn Fn(usize) + Sync + 'static) = unsafe { std::mem::transmute(run) };
    let shared = Arc::new(Shared {
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        n,
        run,
    });
    for _ in 0..helpers {
        let shared = Arc::clone(&shared);
        rayon::spawn(move || shared.work());
    }
    shared.work();
    // Every piece is claimed now; wait for those still running on a helper (awake, since
    // it claimed one).
    let mut spins = 0u32;
    while shared.done.load(Ordering::Acquire) < n {
        if spins < 1 << 10 {
            std::hint::spin_loop();
            spins += 1;
        } else {
            std::thread::yield_now();
        }
    }
    if let Some(payload) = panicked
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
    {
        resume_unwind(payload);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_run_every_piece_once() {
        let mut out = vec![0usize; 10];
        fork_join(out.chunks_mut(3).enumerate(), |(i, chunk)| {
            chunk.iter_mut().for_each(|x| *x += i + 1)
        });
        assert_eq!(out, [1, 1, 1, 2, 2, 2, 3, 3, 3, 4]);
        let count = AtomicUsize::new(0);
        fork_join(std::iter::empty::<()>(), |_| {
            count.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(count.into_inner(), 0);
    }

    #[test]
    fn should_raise_a_piece_panic_after_the_others_finished() {
        for bad in [0, 3] {
            let done = AtomicUsize::new(0);
            let caught = catch_unwind(AssertUnwindSafe(|| {
                fork_join(0..4, |i| {
                    if i == bad {
                        std::panic::panic_any(i);
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                })
            }));
            let payload = caught.expect_err("the piece's panic");
            assert_eq!(payload.downcast_ref::<usize>(), Some(&bad));
            assert_eq!(done.into_inner(), 3);
        }
    }

    #[test]
    fn should_leave_nothing_to_a_helper_that_starts_late() {
        // Many short calls: helpers left over from one call run during later ones (or
        // after the test), and must find nothing to do.
        for round in 0..200 {
            let mut out = vec![0u32; 64];
            fork_join(out.chunks_mut(8), |chunk| chunk.fill(round));
            assert!(out.iter().all(|&x| x == round));
        }
    }
}
