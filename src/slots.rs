//! Per-thread caches of `Arc` allocations for the two objects every recorded op makes: a
//! tensor handle (`TensorImpl`) and a tape node (`Node`).
//!
//! A training step makes them op by op and drops them all together at its end. Through
//! the allocator that was a malloc and a free each, and the free of more than seven
//! blocks of one size at once overflows glibc's per-thread cache into its slower lists:
//! about 1,300 instructions of the lecture's 11-op manual step (callgrind). Here the last
//! handle drops the value but keeps the allocation, and the next value of that type made
//! on the thread is written into it.
//!
//! An allocation is kept as `Arc<MaybeUninit<X>>`: the same layout as `Arc<X>` (so
//! `Arc::from_raw` may convert between the two), nothing to drop, and freed normally when
//! the thread's cache goes. Only f32 and f64 values are cached (nothing else records).

use crate::unique::unique_mut;
use std::mem::MaybeUninit;
use std::sync::Arc;

/// Allocations kept per thread, type and element type: a step's, with room to spare.
pub(crate) const CAPACITY: usize = 64;

/// A cache of `Arc<MaybeUninit<$value<E>>>` per thread for E = f32 and f64, as module
/// `$name` with `take` (a cached allocation, or a new one) and `keep`.
macro_rules! slot_cache {
    ($(#[$doc:meta])* $name:ident: $($path:ident)::+) => {
        $(#[$doc])*
        pub(crate) mod $name {
            use $($path)::+ as Value;
            use crate::element::{DType, Element};
            use std::cell::RefCell;
            use std::mem::MaybeUninit;
            use std::sync::Arc;

            type Slot<E> = Arc<MaybeUninit<Value<E>>>;
            type Cache<E> = RefCell<Vec<Slot<E>>>;

            thread_local! {
                static F32: Cache<f32> = const { RefCell::new(Vec::new()) };
                static F64: Cache<f64> = const { RefCell::new(Vec::new()) };
            }

            /// An allocation for a value, from the thread's cache when it has one.
            #[inline(always)]
            pub(crate) fn take<T: Element>() -> Slot<T> {
                fn pop<E: Element>(cache: &Cache<E>) -> Option<Slot<E>> {
                    cache.try_borrow_mut().ok()?.pop()
                }
                // SAFETY (each arm): `Element` is sealed and `DTYPE` names the one
                // primitive each implementor is, so in the arm for `DType::F32` `T` is
                // `f32`: the cast only renames.
                let cached = match T::DTYPE {
                    DType::F32 => F32.try_with(pop).ok().flatten().map(|s| unsafe { cast(s) }),
                    DType::F64 => F64.try_with(pop).ok().flatten().map(|s| unsafe { cast(s) }),
                    DType::I64 | DType::Bool => None,
                };
                cached.unwrap_or_else(Arc::new_uninit)
            }

            /// Keeps an emptied allocation for [`take`] while the cache has room (and the
            /// thread is not ending); frees it otherwise.
            #[inline(always)]
            pub(crate) fn keep<T: Element>(slot: Slot<T>) {
                fn push<E: Element>(cache: &Cache<E>, slot: Slot<E>) {
                    if let Ok(mut cache) = cache.try_borrow_mut()
                        && cache.len() < super::CAPACITY
                    {
                        cache.push(slot);
                    }
                }
                // SAFETY (each arm): as in `take`, `T` is exactly the primitive the arm names.
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
        }
    };
}

slot_cache!(
    /// Tensor handles.
    handles: crate::tensor::TensorImpl
);
slot_cache!(
    /// Tape nodes.
    nodes: crate::autograd::tape::Node
);

/// Drops `arc`'s value and returns its emptied allocation if `arc` was the last handle
/// (no other `Arc`, no `Weak`); otherwise drops the handle as usual and returns `None`.
#[inline(always)]
pub(crate) fn empty_last<X>(arc: Arc<X>) -> Option<Arc<MaybeUninit<X>>> {
    if Arc::strong_count(&arc) != 1 {
        return None;
    }
    // SAFETY: `MaybeUninit<X>` has the layout of `X`, which is what `Arc::from_raw` asks
    // of a pointer from `Arc::<X>::into_raw`.
    let mut slot = unsafe { Arc::from_raw(Arc::into_raw(arc) as *const MaybeUninit<X>) };
    let Some(value) = unique_mut(&mut slot) else {
        // A `Weak` is still out (a tensor's `retain_grad`): drop the handle as it was.
        // SAFETY: the same allocation, back to its own type, still initialized.
        drop(unsafe { filled(slot) });
        return None;
    };
    // SAFETY: the value is initialized (it was a live `X`) and unique, and is never read
    // again: a slot is written whole before `filled` reads it as a value.
    unsafe { value.assume_init_drop() };
    Some(slot)
}

/// The allocation as a handle to its value.
///
/// # Safety
/// Every field of the value must be initialized.
#[inline]
pub(crate) unsafe fn filled<X>(slot: Arc<MaybeUninit<X>>) -> Arc<X> {
    // SAFETY: the same layout (see `empty_last`), and the caller's promise.
    unsafe { Arc::from_raw(Arc::into_raw(slot) as *const X) }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    #[test]
    fn should_record_a_new_node_into_the_last_one_freed() {
        // A thread of its own, so its caches hold only what this test puts there.
        std::thread::spawn(|| {
            let x = Tensor::<f64>::ones(&[3]).requires_grad_(true);
            let y = (&x * 2.0).sum();
            let node = |t: &Tensor<f64>| {
                std::sync::Arc::as_ptr(t.0.grad_fn.as_ref().expect("recorded")) as usize
            };
            let address = node(&y);
            drop(y);
            // The sum's node was freed last, so the next op recorded lands in it, with
            // nothing of the old one: its own op, inputs and saved values.
            let m = &x * 3.0;
            assert_eq!(node(&m), address);
            m.exp().sum().backward();
            let e3 = 3.0f64.exp();
            assert_eq!(x.grad().expect("x's gradient").to_vec(), vec![3.0 * e3; 3]);
        })
        .join()
        .expect("the test thread");
    }

    #[test]
    fn should_start_a_reused_handle_empty() {
        // A thread of its own, so its caches hold only what this test puts there.
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
