//! A per-thread cache of freed buffers, so the small tensors of a training step reuse
//! last step's memory instead of going through the allocator 2-3 times per op.
//!
//! A buffer enters the cache when the last array viewing it drops (nobody else can reach
//! it then), and leaves it when a kernel needs an output of exactly that many elements:
//! a training loop makes the same shapes every step, so exact sizes match. The cache is
//! bounded, and holds f32, f64 and i64 buffers. Large buffers are kept too, within a
//! budget: a big layer's weight gradient freed and reallocated every step would otherwise
//! go back to the kernel and come back as fresh zeroed pages, a page fault per 4 KiB.

use super::Storage;
use crate::element::{DType, Element};
use std::cell::RefCell;
use std::sync::Arc;

/// Buffers kept per thread and float type.
const CAPACITY: usize = 64;
/// Buffers up to this size are always kept (while there is room).
const SMALL_ELEMENTS: usize = 1 << 16;
/// Larger ones are kept only while all cached buffers of their type together stay within
/// this many bytes per thread; beyond it they go back to the allocator. A 10⁷-element
/// f32 tensor (40 MB) fits: freed and made again every step, it would otherwise cost
/// more in fresh pages (about 15 ms on the machine in BENCHMARKS.md) than its kernel.
const BUDGET_BYTES: usize = 128 << 20;

/// [`BUDGET_BYTES`] in elements of `E`.
const fn budget<E>() -> usize {
    BUDGET_BYTES / std::mem::size_of::<E>()
}

/// Cached storages with their lengths beside them, so a lookup scans one flat array
/// instead of following a pointer per entry.
type Cache<E> = RefCell<Vec<(usize, Arc<Storage<E>>)>>;

thread_local! {
    static F32: Cache<f32> = const { RefCell::new(Vec::new()) };
    static F64: Cache<f64> = const { RefCell::new(Vec::new()) };
    static I64: Cache<i64> = const { RefCell::new(Vec::new()) };
}

/// A cached storage holding exactly `len` elements (stale values), if one is free.
pub(super) fn take<T: Element>(len: usize) -> Option<Arc<Storage<T>>> {
    if len > budget::<T>() || len == 0 {
        return None;
    }
    fn pop<E>(cache: &Cache<E>, len: usize) -> Option<Arc<Storage<E>>> {
        let mut cache = cache.try_borrow_mut().ok()?;
        let at = cache.iter().rposition(|(n, _)| *n == len)?;
        Some(cache.swap_remove(at).1)
    }
    // SAFETY (each arm): `Element` is sealed and `DTYPE` names the one primitive each
    // implementor is, so in the arm for `DType::F32` `T` is `f32`, and so on: the cast
    // changes nothing but the type's name.
    match T::DTYPE {
        DType::F32 => F32
            .try_with(|c| pop(c, len))
            .ok()
            .flatten()
            .map(|s| unsafe { cast(s) }),
        DType::F64 => F64
            .try_with(|c| pop(c, len))
            .ok()
            .flatten()
            .map(|s| unsafe { cast(s) }),
        DType::I64 => I64
            .try_with(|c| pop(c, len))
            .ok()
            .flatten()
            .map(|s| unsafe { cast(s) }),
        DType::Bool => None,
    }
}

/// Keeps `storage` for reuse if this was its last handle; otherwise just drops it.
pub(super) fn recycle<T: Element>(mut storage: Arc<Storage<T>>) {
    if storage.len > budget::<T>()
        || storage.len == 0
        || crate::unique::unique_mut(&mut storage).is_none()
    {
        return;
    }
    fn push<E>(cache: &Cache<E>, storage: Arc<Storage<E>>) {
        if let Ok(mut cache) = cache.try_borrow_mut() {
            let fits = storage.len <= SMALL_ELEMENTS
                || cache.iter().map(|(n, _)| n).sum::<usize>() + storage.len <= budget::<E>();
            if cache.len() < CAPACITY && fits {
                cache.push((storage.len, storage));
            }
        }
    }
    // SAFETY (each arm): as in `take`, `T` is exactly the primitive the arm names.
    match T::DTYPE {
        DType::F32 => {
            let _ = F32.try_with(|c| push(c, unsafe { cast(storage) }));
        }
        DType::F64 => {
            let _ = F64.try_with(|c| push(c, unsafe { cast(storage) }));
        }
        DType::I64 => {
            let _ = I64.try_with(|c| push(c, unsafe { cast(storage) }));
        }
        DType::Bool => {}
    }
}

/// # Safety
/// `A` and `B` must be the same type.
unsafe fn cast<A, B>(storage: Arc<Storage<A>>) -> Arc<Storage<B>> {
    // SAFETY: the caller guarantees A == B, so the allocation's layout is Storage<B>'s.
    unsafe { Arc::from_raw(Arc::into_raw(storage) as *const Storage<B>) }
}
