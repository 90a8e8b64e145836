//! Tensor handles: written in place into an allocation from the thread's cache
//! (`crate::slots`), and returned to it by the last handle's drop.

use super::TensorImpl;
use crate::array::Array;
use crate::autograd::node_ref::NodeRef;
use crate::device::Device;
use crate::element::Element;
use crate::slots::{self, handles};
use crate::unique::unique_mut;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

/// A new handle: a tensor over `array`, made by `grad_fn` (none for a leaf), in a cached
/// allocation when the thread has one. The fields are written where they lie: a
/// `TensorImpl` built on the stack and then moved went through `memcpy`, which read back
/// the stores just made (a stalled store forwarding, 8% of the manual step's time in perf).
#[inline]
pub(super) fn new<T: Element>(
    array: Array<T>,
    grad_fn: Option<NodeRef<T>>,
    requires_grad: bool,
) -> Arc<TensorImpl<T>> {
    let mut slot = handles::take::<T>();
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
    // SAFETY: every field was written above.
    unsafe { slots::filled(slot) }
}

/// Drops one handle. The last one (no other `Arc`, no `Weak`) drops the tensor's contents
/// and keeps the allocation for [`new`].
#[inline]
pub(super) fn release<T: Element>(handle: Arc<TensorImpl<T>>) {
    if let Some(slot) = slots::empty_last(handle) {
        handles::keep(slot);
    }
}
