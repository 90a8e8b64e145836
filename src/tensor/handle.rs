//! Tensor handles: written in place into an allocation from the thread's cache
//! (`crate::slots`), and returned to it by the last handle's drop.
//!
//! An op's result is written straight into its handle ([`Unwritten::array`]): the array
//! (96 bytes) returned from the kernel and then moved into the handle was copied two more
//! times, and each copy read back stores still in flight (a stalled store forwarding, 10%
//! of the lecture's manual step in perf).

use super::TensorImpl;
use crate::array::Array;
use crate::autograd::node_ref::NodeRef;
use crate::device::Device;
use crate::element::Element;
use crate::slots::{self, handles};
use crate::unique::unique_mut;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

type Slot<T> = Arc<MaybeUninit<TensorImpl<T>>>;

/// A handle's allocation, taken from the thread's cache, with nothing written in it yet.
/// Dropped, it goes back to the cache; an array written to it without
/// [`Unwritten::written`] following (a kernel that panicked after writing) is leaked, never
/// dropped.
pub(crate) struct Unwritten<T: Element>(ManuallyDrop<Slot<T>>);

/// A handle's allocation with its array written and nothing else: [`Written::finish`]
/// makes it a handle. Dropped unfinished (a panic while recording), it drops the array and
/// goes back to the cache.
pub(crate) struct Written<T: Element>(ManuallyDrop<Slot<T>>);

impl<T: Element> Unwritten<T> {
    #[inline]
    pub(crate) fn new() -> Self {
        Unwritten(ManuallyDrop::new(handles::take::<T>()))
    }

    /// The place of the handle's array, for [`crate::ops::Op::eval_into`].
    #[inline]
    pub(crate) fn array(&mut self) -> &mut MaybeUninit<Array<T>> {
        let place = unique_mut(&mut self.0)
            .expect("a new or cached handle has no other reference")
            .as_mut_ptr();
        // SAFETY: `place` points at the slot's value, which nothing else can reach;
        // `MaybeUninit<Array<T>>` has the layout of the `Array<T>` field it points at.
        unsafe { &mut *(std::ptr::addr_of_mut!((*place).array) as *mut MaybeUninit<Array<T>>) }
    }

    /// # Safety
    /// The place [`Unwritten::array`] gives was written with an array.
    #[inline]
    pub(crate) unsafe fn written(mut self) -> Written<T> {
        // SAFETY: taken once; `self` is forgotten, so its drop does not see it again.
        let slot = unsafe { ManuallyDrop::take(&mut self.0) };
        std::mem::forget(self);
        Written(ManuallyDrop::new(slot))
    }
}

impl<T: Element> Drop for Unwritten<T> {
    fn drop(&mut self) {
        // SAFETY: the slot is not used again; nothing in it needs dropping.
        handles::keep(unsafe { ManuallyDrop::take(&mut self.0) });
    }
}

impl<T: Element> Written<T> {
    /// A slot from the cache with `array` written into it.
    #[inline]
    pub(crate) fn from_array(array: Array<T>) -> Self {
        let mut slot = Unwritten::new();
        slot.array().write(array);
        // SAFETY: written just above.
        unsafe { slot.written() }
    }

    /// The array written in the slot.
    #[inline]
    pub(crate) fn array(&self) -> &Array<T> {
        // SAFETY: the array field is initialized (this type's invariant) and nothing
        // writes it while `self` is borrowed.
        unsafe { &(*self.0.as_ptr()).array }
    }

    /// The handle: the other fields written (a tensor made by `grad_fn`, none for a leaf)
    /// where they lie. A `TensorImpl` built on the stack and then moved went through
    /// `memcpy`, which read back the stores just made (8% of the manual step in perf).
    #[inline]
    pub(crate) fn finish(
        mut self,
        grad_fn: Option<NodeRef<T>>,
        requires_grad: bool,
    ) -> Arc<TensorImpl<T>> {
        // SAFETY: taken once; `self` is forgotten, so its drop does not see it again.
        let mut slot = unsafe { ManuallyDrop::take(&mut self.0) };
        std::mem::forget(self);
        let place = unique_mut(&mut slot)
            .expect("a new or cached handle has no other reference")
            .as_mut_ptr();
        // SAFETY: `place` points at the slot's value, which nothing else can reach; the
        // array is written (this type's invariant), each other field is written once here,
        // before the value is read as initialized below.
        unsafe {
            use std::ptr::addr_of_mut;
            addr_of_mut!((*place).device).write(Device::Cpu);
            addr_of_mut!((*place).requires_grad)
                .write(AtomicBool::new(requires_grad || grad_fn.is_some()));
            addr_of_mut!((*place).grad).write(Mutex::new(None));
            addr_of_mut!((*place).grad_fn).write(grad_fn);
            addr_of_mut!((*place).hooks).write(Mutex::new(None));
            slots::filled(slot)
        }
    }
}

impl<T: Element> Drop for Written<T> {
    fn drop(&mut self) {
        // SAFETY: the slot is not used again; its array is initialized and dropped here
        // once, and the emptied allocation goes back to the cache.
        unsafe {
            let mut slot = ManuallyDrop::take(&mut self.0);
            if let Some(value) = unique_mut(&mut slot) {
                std::ptr::drop_in_place(std::ptr::addr_of_mut!((*value.as_mut_ptr()).array));
                handles::keep(slot);
            }
        }
    }
}

/// A new handle: a tensor over `array`, made by `grad_fn` (none for a leaf), in a cached
/// allocation when the thread has one.
#[inline]
pub(super) fn new<T: Element>(
    array: Array<T>,
    grad_fn: Option<NodeRef<T>>,
    requires_grad: bool,
) -> Arc<TensorImpl<T>> {
    Written::from_array(array).finish(grad_fn, requires_grad)
}

/// Drops one handle. The last one (no other `Arc`, no `Weak`) drops the tensor's contents
/// and keeps the allocation for [`new`].
#[inline]
pub(super) fn release<T: Element>(handle: Arc<TensorImpl<T>>) {
    if let Some(slot) = slots::empty_last(handle) {
        handles::keep(slot);
    }
}
