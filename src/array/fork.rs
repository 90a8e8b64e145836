//! Fork-join on rayon's pool with the calling thread taking a share.
//!
//! Under `rayon::scope`, a thread outside the pool (the user's) hands every piece to the
//! pool and sleeps until the pool's threads have done them all. On a virtual machine
//! each sleep and wake-up is a round trip through the host's scheduler, so a two-piece
//! split paid for two wake-ups and the caller's own sleep, and two threads gained
//! little: the S2 MLP's `128x784 @ 784x256` product ran 1.15× as fast on two threads as
//! on one, and a `512³` product 1.14×, where PyTorch's gained 1.82× and 1.68× in the same
//! minutes (BENCHMARKS.md, "Speed II, eighteenth part"). Here the caller does the first
//! piece itself while the pool does the rest: one wake-up, no sleep of the caller.

/// Runs `work` on every piece: the first on this thread, the others on rayon's pool;
/// returns when all are done. A panic in any piece is raised here after every piece has
/// finished (rayon's scope keeps the borrowed pieces alive until then).
pub(crate) fn fork_join<I: Send>(mut pieces: impl Iterator<Item = I>, work: impl Fn(I) + Sync) {
    let Some(first) = pieces.next() else {
        return;
    };
    let work = &work;
    rayon::in_place_scope(|scope| {
        for piece in pieces {
            scope.spawn(move |_| work(piece));
        }
        work(first);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

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
        let done = AtomicUsize::new(0);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            fork_join(0..4, |i| {
                if i == 0 {
                    panic!("piece 0");
                }
                done.fetch_add(1, Ordering::Relaxed);
            })
        }));
        assert!(caught.is_err());
        assert_eq!(done.into_inner(), 3);
    }
}
