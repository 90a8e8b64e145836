//! A per-thread cache of tensor handle allocations.
//!
//! Every op makes a handle (the `Arc<TensorImpl>` a [`Tensor`](super::Tensor) points to)
//! and a training step drops them all together at its end. Through the allocator that was
//! a malloc and a free per op, and the free of more than seven blocks of one size at once
//! overflows glibc's per-thread cache into its slower lists: about 1,300 instructions of
//! the lecture's 11-op manual step (callgrind). Here the last handle to a tensor drops
//! what the tensor holds but keeps the allocation, and the next tensor made on the thread
//! is written into it.
//!
//! The allocations are kept as `Arc<MaybeUninit<TensorImpl<T>>>`: the same layout as
//! `Arc<TensorImpl<T>>` (so `Arc::from_raw` may convert between the two), with nothing to
//! drop, and freed normally when the thread's cache goes.

use super::TensorImpl;
use crate::array::Array;
use crate::autograd::tape::Node;
use crate::device::Device;
use crate::element::{DType, Element};
use crate::unique::unique_mut;
use std::cell::RefCell;
use std::mem::MaybeUninit;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

/// Allocations kept per thread and element type: a step's handles, with room to spare.
const CAPACITY: usize = 64;

type Cache<E> = RefCell<Vec<Arc<MaybeUninit<TensorImpl<E>>>>>;

thread_local! {
    static F32: Cache<f32> = const { RefCell::new(Vec::new()) };
    static F64: Cache<f64> = const { RefCell::new(Vec::new()) };
}

/// A new handle: a tensor over `array`, made by `grad_fn` (none for a leaf), in a cached
/// allocation when the thread has one. The fields are written where they lie: a
/// `TensorImpl` built on the stack and then moved went through `memcpy`, which read back
/// the stores just made (a stalled store forwarding, 8% of the manual step's time in perf).
#[inline]
pub(super) fn new<T: Element>(
    array: Array<T>,
    grad_fn: Option<Arc<Node<T>>>,
    requires_grad: bool,
) -> Arc<TensorImpl<T>> {
    fn pop<E: Element>(cache: &Cache<E>) -> Option<Arc<MaybeUninit<TensorImpl<E>>>> {
        cache.try_borrow_mut().ok()?.pop()
    }
    // SAFETY (each arm): `Element` is sealed and `DTYPE` names the one primitive each
    // implementor is, so in the arm for `DType::F32` `T` is `f32`: the cast only renames.
    let cached: Option<Arc<MaybeUninit<TensorImpl<T>>>> = match T::DTYPE {
        DType::F32 => F32.try_with(pop).ok().flatten().map(|s| unsafe { cast(s) }),
        DType::F64 => F64.try_with(pop).ok().flatten().map(|s| unsafe { cast(s) }),
        DType::I64 | DType::Bool => None,
    };
    let mut slot = cached.unwrap_or_else(Arc::new_uninit);
    let place = unique_mut(&mut slot)
        .expect("a new or cached handle has no other reference")
        .as_mut_ptr();
    // SAFETY: `place` points at the slot's value, which nothing else can reach; each field
    // is written once, before the value is read as initialized below.
    unsafe {
        use std::ptr::addr_of_mut;
        addr_of_mut!((*place).array).write(array);
        addr_of_mut!((*place).device).write(Device::Cpu);
        addr_of_mut!((*place).requires_grad)
            .write(AtomicBool::new(requires_grad || grad_fn.is_some()));
        addr_of_mut!((*place).grad).write(Mutex::new(None));
        addr_of_mut!((*place).grad_fn).write(grad_fn);
        addr_of_mut!((*place).hooks).write(Mutex::new(None));
    }
    // SAFETY: the allocation is an `Arc<TensorImpl<T>>`'s (made by `Arc::new_uninit` or kept
    // by `release`), and every field was written above.
    unsafe { Arc::from_raw(Arc::into_raw(slot) as *const TensorImpl<T>) }
}

/// Drops one handle. The last one (no other `Arc`, no `Weak`) drops the tensor's contents
/// and keeps the allocation for [`new`], while the cache has room.
#[inline]
pub(super) fn release<T: Element>(handle: Arc<TensorImpl<T>>) {
    if !matches!(T::DTYPE, DType::F32 | DType::F64) || Arc::strong_count(&handle) != 1 {
        return;
    }
    // SAFETY: `MaybeUninit<TensorImpl<T>>` has the layout of `TensorImpl<T>`, which is
    // what `Arc::from_raw` asks of a pointer from `Arc::<TensorImpl<T>>::into_raw`.
    let mut slot: Arc<MaybeUninit<TensorImpl<T>>> =
        unsafe { Arc::from_raw(Arc::into_raw(handle) as *const MaybeUninit<TensorImpl<T>>) };
    let Some(value) = unique_mut(&mut slot) else {
        // A `Weak` (from `retain_grad`) is still out: drop the handle as it was.
        // SAFETY: the same allocation, back to its own type, still initialized.
        drop(unsafe { Arc::from_raw(Arc::into_raw(slot) as *const TensorImpl<T>) });
        return;
    };
    // The contents are dropped before the cache is borrowed: they may hold other tensors
    // (a gradient, a graph node's inputs) whose own release comes back here.
    // SAFETY: the value is initialized (it was a live `TensorImpl`) and unique, and is
    // never read again: `new` writes the slot before any reuse.
    unsafe { value.assume_init_drop() };
    fn push<E: Element>(cache: &Cache<E>, slot: Arc<MaybeUninit<TensorImpl<E>>>) {
        if let Ok(mut cache) = cache.try_borrow_mut()
            && cache.len() < CAPACITY
        {
            cache.push(slot);
        }
    }
    // SAFETY (each arm): as in `new`, `T` is exactly the primitive the arm names. A slot
    // the cache does not take (full, or the thread is ending) is freed as it drops.
    match T::DTYPE {
        DType::F32 => {
            let _ = F32.try_with(|c| push(c, unsafe { cast(slot) }));
        }
        DType::F64 => {
            let _ = F64.try_with(|c| push(c, unsafe { cast(slot) }));
        }
        DType::I64 | DType::Bool => {}
    }
}

/// # Safety
/// `A` and `B` must be the same type.
unsafe fn cast<A, B>(slot: Arc<A>) -> Arc<B> {
    // SAFETY: the caller guarantees A == B.
    unsafe { Arc::from_raw(Arc::into_raw(slot) as *const B) }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    #[test]
    fn should_start_a_reused_handle_empty() {
        // One thread of its own, so its cache holds only what this test puts there.
        std::thread::spawn(|| {
            let w = Tensor::<f32>::ones(&[2]).requires_grad_(true);
            (&w * 3.0).sum().backward();
            assert!(w.grad().is_some());
            let address = std::sync::Arc::as_ptr(&w.0) as usize;
            drop(w);
            let fresh = Tensor::<f32>::zeros(&[2]);
            // The allocation came back from the cache, with none of the old state.
            assert_eq!(std::sync::Arc::as_ptr(&fresh.0) as usize, address);
            assert!(!fresh.requires_grad());
            assert!(fresh.grad().is_none());
            assert_eq!(fresh.to_vec(), vec![0.0, 0.0]);
        })
        .join()
        .expect("the test thread");
    }
}
