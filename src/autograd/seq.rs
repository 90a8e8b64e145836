//! Node numbers (`Node::seq`). A node's number is larger than its inputs' numbers, so
//! visiting nodes by decreasing `seq` visits every consumer before what it consumes: a
//! topological order without a visited set (PyTorch's engine uses creation order).
//!
//! Each thread counts on its own, with no atomic read-modify-write per op: a number is
//! `count << 16 | tag`, where `count` is the thread's next count or one more than the
//! largest count among the inputs (made on any thread), and `tag` tells threads apart. So
//! numbers grow along every edge, and are unique while fewer than 65,536 threads have
//! recorded (beyond that, ties are broken by address in the walk, see `Pending`).

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

const TAG_BITS: u32 = 16;
static NEXT_TAG: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's next count, and its tag (`u64::MAX` until its first node).
    static STATE: Cell<(u64, u64)> = const { Cell::new((0, u64::MAX)) };
}

/// A number for a node whose inputs' largest number is `after` (0 if none).
pub(crate) fn next(after: u64) -> u64 {
    STATE.with(|state| {
        let (count, mut tag) = state.get();
        if tag == u64::MAX {
            tag = NEXT_TAG.fetch_add(1, Ordering::Relaxed) & ((1 << TAG_BITS) - 1);
        }
        let count = count.max((after >> TAG_BITS) + 1);
        state.set((count + 1, tag));
        count << TAG_BITS | tag
    })
}
