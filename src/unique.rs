//! Exclusive access to the value behind an `Arc` that has no other handle, without an
//! atomic read-modify-write.
//!
//! `Arc::get_mut` locks the weak count with a compare-and-swap to rule out a `Weak` being
//! made at the same moment from another strong handle. A locked instruction costs some
//! twenty cycles and drains the store buffer; the lecture's autograd step (W3) made 174
//! of them (`benches/callgrind.sh`), and perf put about half its samples right after them.
//! When the handle in hand is the only strong one, no other handle exists to make a
//! `Weak` from, so two plain loads decide it.

use std::sync::atomic::{fence, Ordering};
use std::sync::Arc;

/// `&mut` to the value if `arc` is its only handle (no other `Arc`, no `Weak`), as
/// `Arc::get_mut`.
#[inline]
pub(crate) fn unique_mut<T>(arc: &mut Arc<T>) -> Option<&mut T> {
    if Arc::strong_count(arc) != 1 || Arc::weak_count(arc) != 0 {
        return None;
    }
    // The loads above read the count after every other handle's release decrement (a
    // `Release` operation in `Arc`'s drop); this fence orders those threads' last uses of
    // the value before ours, as `Arc::get_mut`'s acquire does.
    fence(Ordering::Acquire);
    // SAFETY: `arc` is the only strong handle and is borrowed mutably here, so no other
    // thread can clone it or make a `Weak` from it (and none exists: the weak count is 0).
    // Nothing else can reach the value while the returned borrow lives. `Arc::as_ptr`
    // derives the pointer from the allocation without a shared reference, as the
    // standard library's own `get_mut` does.
    Some(unsafe { &mut *(Arc::as_ptr(arc) as *mut T) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_give_access_only_to_the_last_handle() {
        let mut a = Arc::new(5);
        *unique_mut(&mut a).expect("only handle") += 1;
        let b = Arc::clone(&a);
        assert!(unique_mut(&mut a).is_none());
        drop(b);
        let weak = Arc::downgrade(&a);
        assert!(unique_mut(&mut a).is_none());
        drop(weak);
        assert_eq!(unique_mut(&mut a).copied(), Some(6));
    }
}
