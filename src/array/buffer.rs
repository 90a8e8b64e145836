//! A storage's elements, in memory aligned to 64 bytes when tapegrad allocates it.
//!
//! The allocator hands large blocks out 16 bytes past a page boundary (glibc maps them
//! with a 16-byte header), so a row-major operand's 32-byte AVX loads and stores straddle
//! two cache lines every other time. PyTorch aligns its CPU buffers to 64 bytes. Measured
//! on a Zen 3 (`cargo bench -p tapegrad-benches --bench interleaved`, the build before
//! and after taking turns; BENCHMARKS.md "Speed II, ninth part"), a 10⁶ f32 add ran
//! 10-15% faster on aligned buffers, and one with a transposed operand 25-45%. A `Vec`
//! handed in by the user (`Tensor::from_vec`) is kept as it is, without a copy.

use std::alloc::Layout;
use std::mem::MaybeUninit;
use std::ptr::NonNull;

/// The alignment of the buffers tapegrad allocates: a cache line.
pub(crate) const ALIGN: usize = 64;

/// A fixed-length buffer of `T` (a plain-data element: no drop), read and written as a
/// slice.
pub(crate) struct Buffer<T> {
    ptr: NonNull<T>,
    len: usize,
    /// Where the memory came from, so it goes back the same way.
    origin: Origin,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Origin {
    /// A `Vec` with this capacity.
    Vec(usize),
    /// [`std::alloc::alloc`] with [`Buffer::layout`].
    Aligned,
}

// SAFETY: a `Buffer` owns its elements as a `Vec` does; sharing or sending it shares or
// sends them.
unsafe impl<T: Send> Send for Buffer<T> {}
// SAFETY: as above; `&Buffer` gives only `&[T]`.
unsafe impl<T: Sync> Sync for Buffer<T> {}

impl<T: Copy> Buffer<T> {
    /// Takes `data` over as it is (no copy).
    pub(crate) fn from_vec(data: Vec<T>) -> Buffer<T> {
        let mut data = std::mem::ManuallyDrop::new(data);
        let (len, cap) = (data.len(), data.capacity());
        Buffer {
            // SAFETY: a `Vec`'s pointer is never null (dangling but non-null when empty).
            ptr: unsafe { NonNull::new_unchecked(data.as_mut_ptr()) },
            len,
            origin: Origin::Vec(cap),
        }
    }

    /// The layout of an aligned allocation of `n` elements, or `None` if its size
    /// overflows.
    fn layout(n: usize) -> Option<Layout> {
        let bytes = n.checked_mul(std::mem::size_of::<T>())?;
        Layout::from_size_align(bytes, ALIGN.max(std::mem::align_of::<T>())).ok()
    }

    /// A buffer of `n` elements, written by `fill` before anything reads them: aligned
    /// to [`ALIGN`] bytes. `Err` with the bytes asked for if the allocator refuses.
    ///
    /// # Safety
    /// `fill` writes every element of the slice it gets (values, not
    /// `MaybeUninit::uninit()`).
    pub(crate) unsafe fn new_with(
        n: usize,
        fill: impl FnOnce(&mut [MaybeUninit<T>]),
    ) -> Result<Buffer<T>, usize> {
        let bytes = n.saturating_mul(std::mem::size_of::<T>());
        if bytes == 0 {
            let mut empty = Vec::new();
            fill(&mut empty.spare_capacity_mut()[..0]);
            return Ok(Buffer::from_vec(empty));
        }
        let layout = Self::layout(n).ok_or(bytes)?;
        // SAFETY: the layout's size is not zero (checked above).
        let raw = unsafe { std::alloc::alloc(layout) } as *mut T;
        let ptr = NonNull::new(raw).ok_or(bytes)?;
        // Freed again if `fill` panics (an allocation failure inside it, say).
        let buffer = Buffer {
            ptr,
            len: n,
            origin: Origin::Aligned,
        };
        // SAFETY: the allocation holds `n` elements; `MaybeUninit` needs no initialised
        // value, and nothing reads them as `T` before `fill` has written them all (the
        // caller's promise).
        fill(unsafe { std::slice::from_raw_parts_mut(ptr.as_ptr() as *mut MaybeUninit<T>, n) });
        Ok(buffer)
    }
}

impl<T> std::ops::Deref for Buffer<T> {
    type Target = [T];
    #[inline]
    fn deref(&self) -> &[T] {
        // SAFETY: `ptr` holds `len` initialised elements (see the constructors).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl<T> std::ops::DerefMut for Buffer<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY: as in `deref`, and `&mut self` makes the access unique.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl<T> Drop for Buffer<T> {
    fn drop(&mut self) {
        match self.origin {
            // SAFETY: the parts of the `Vec` taken over in `from_vec`.
            Origin::Vec(cap) => {
                drop(unsafe { Vec::from_raw_parts(self.ptr.as_ptr(), self.len, cap) })
            }
            Origin::Aligned => {
                let bytes = self.len * std::mem::size_of::<T>();
                // SAFETY: the layout `new_with` allocated with (the same size and
                // alignment, which it checked); the elements are plain data, nothing to drop.
                unsafe {
                    let layout = Layout::from_size_align_unchecked(
                        bytes,
                        ALIGN.max(std::mem::align_of::<T>()),
                    );
                    std::alloc::dealloc(self.ptr.as_ptr() as *mut u8, layout)
                }
            }
        }
    }
}

impl<T> std::fmt::Debug for Buffer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Buffer")
            .field("len", &self.len)
            .field("origin", &self.origin)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An allocated buffer starts on a 64-byte boundary and holds what `fill` wrote; a
    /// `Vec` taken over keeps its memory and contents; both free cleanly (a debug run
    /// would report a mismatched layout as a crash).
    #[test]
    fn buffers_are_aligned_and_hold_their_values() {
        for n in [1usize, 3, 1000, 100_000] {
            // SAFETY: the closure writes every element.
            let b = unsafe {
                Buffer::<f32>::new_with(n, |out| {
                    for (i, o) in out.iter_mut().enumerate() {
                        o.write(i as f32);
                    }
                })
            }
            .expect("allocated");
            assert_eq!(b.as_ptr() as usize % ALIGN, 0, "{n} elements");
            assert_eq!(b.len(), n);
            assert!(b.iter().enumerate().all(|(i, &v)| v == i as f32));
        }
        let v = vec![1i64, 2, 3];
        let at = v.as_ptr();
        let b = Buffer::from_vec(v);
        assert_eq!((b.as_ptr(), &b[..]), (at, &[1i64, 2, 3][..]));
        // SAFETY: nothing to write.
        let empty = unsafe { Buffer::<f64>::new_with(0, |_| {}) }.expect("empty");
        assert!(empty.is_empty());
    }

    /// A size whose bytes overflow is refused with an error, not an abort.
    #[test]
    fn impossible_sizes_are_refused() {
        // SAFETY: never called (the allocation is refused first).
        let refused = unsafe { Buffer::<f64>::new_with(usize::MAX / 4, |_| unreachable!()) };
        assert!(refused.is_err());
    }
}
