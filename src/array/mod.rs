//! Layer 0: storage, strided layouts and the kernels that compute on them. No autograd here.
//!
//! An [`Array`] is a view: a shared, lockable buffer ([`Storage`]) plus a [`Layout`] (shape,
//! strides, offset) that says which elements of the buffer it sees and in what order.
//! Transpose, permute, broadcast and reshape-of-contiguous only make a new layout over the
//! same buffer. Kernels read through layouts and always write a fresh contiguous result,
//! except the in-place ones, which write through the destination's layout.
//!
//! - `elementwise.rs`: unary maps, broadcasting binary ops, in-place updates;
//! - `reduce.rs`: sums, means, max/argmax along a dim, and sum-to-shape (undoing broadcast);
//! - `matmul.rs`: batched matmul through the `gemm` crate; `small_gemm.rs` and
//!   `outer.rs`: register tiles for the products too small for it;
//! - `conv.rs`: convolution as im2col + GEMM, and its two gradients;
//! - `pooling.rs`: max and average pooling, and their gradients.

/// A function compiled three times, for AVX-512, for AVX2 with FMA, and for the baseline
/// target (which has SSE2 only, so loops vectorise four lanes wide at most), with the
/// widest this CPU runs picked at each call (`is_x86_feature_detected!`: a cached bit
/// test). For loops over slices whose per-element work is branch-free: the same
/// operations in the same order, so the same bits, on every flavour.
macro_rules! multiversion {
    ($(#[$meta:meta])* $vis:vis unsafe fn $($rest:tt)*) => {
        multiversion!(@emit [unsafe] $(#[$meta])* $vis fn $($rest)*);
    };
    ($(#[$meta:meta])* $vis:vis fn $($rest:tt)*) => {
        multiversion!(@emit [] $(#[$meta])* $vis fn $($rest)*);
    };
    (@emit [$($unsafety:tt)?] $(#[$meta:meta])* $vis:vis fn $name:ident<$t:ident: $bound:path $(, const $c:ident: $cty:ty)*>($($arg:ident: $ty:ty),*) -> $ret:ty $body:block) => {
        $(#[$meta])*
        $vis $($unsafety)? fn $name<$t: $bound $(, const $c: $cty)*>($($arg: $ty),*) -> $ret {
            #[inline(always)]
            $($unsafety)? fn portable<$t: $bound $(, const $c: $cty)*>($($arg: $ty),*) -> $ret $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx2,fma")]
                unsafe fn avx512<$t: $bound $(, const $c: $cty)*>($($arg: $ty),*) -> $ret {
                    #[allow(unused_unsafe)]
                    // SAFETY: the caller's contract, if `portable` has one.
                    unsafe { portable::<$t $(, $c)*>($($arg),*) }
                }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2<$t: $bound $(, const $c: $cty)*>($($arg: $ty),*) -> $ret {
                    #[allow(unused_unsafe)]
                    // SAFETY: the caller's contract, if `portable` has one.
                    unsafe { portable::<$t $(, $c)*>($($arg),*) }
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has AVX-512F (checked just above).
                    return unsafe { avx512::<$t $(, $c)*>($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: the CPU has AVX2 and FMA (checked just above).
                    return unsafe { avx2::<$t $(, $c)*>($($arg),*) };
                }
            }
            #[allow(unused_unsafe)]
            // SAFETY: the caller's contract, if `portable` has one.
            unsafe { portable::<$t $(, $c)*>($($arg),*) }
        }
    };
}

mod buffer;
pub(crate) mod conv;
mod elementwise;
pub(crate) mod fork;
pub(crate) mod index;
mod layout;
pub(crate) mod matmul;
mod outer;
mod pool;
pub(crate) mod pooling;
mod reduce;
pub(crate) mod scan;
pub(crate) mod select;
mod small_gemm;
mod tiles;
pub(crate) mod vmath;

pub(crate) use elementwise::{
    apply_inplace, apply_inplace_scalar, map, map_into, map_vector, split_rows, zip_map,
    zip_map_into, PARALLEL_ELEMENTS,
};
pub(crate) use layout::Layout;
pub(crate) use matmul::{matmul, matmul_swapped, num_threads};
pub(crate) use reduce::{
    argmax_dim, max_dim, max_mask, max_row, sum_all, sum_dim, sum_pieces, sum_row, sum_to_shape,
};

use crate::element::Element;
use crate::shape::numel;
use buffer::Buffer;
use smallvec::SmallVec;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// A buffer shared by every view of it, with a version counter that in-place writes bump
/// (autograd compares it to detect a saved value that changed before backward).
#[derive(Debug)]
pub(crate) struct Storage<T> {
    data: RwLock<Buffer<T>>,
    /// `data.len()`, fixed at creation (readable without the lock).
    len: usize,
    version: AtomicU64,
}

/// A strided view of a [`Storage`]. Cloning is cheap: it shares the buffer.
///
/// `repr(C)` puts the `Arc` last: it is the niche a `Result<Array<T>>` marks an error in, so
/// an `Ok` keeps the array's bytes where the array has them. With the `Arc` first, code
/// copying a result out read its tag word alone and the rest in 16-byte pieces that
/// straddled the pieces just stored, a stalled store forwarding on every op's result (perf
/// on the lecture's manual step: about 4% of its time).
#[derive(Debug)]
#[repr(C)]
pub(crate) struct Array<T: Element> {
    layout: Layout,
    /// Taken out only in `drop`, to hand a buffer nobody else holds to the pool.
    storage: ManuallyDrop<Arc<Storage<T>>>,
}

impl<T: Element> Clone for Array<T> {
    fn clone(&self) -> Self {
        Array {
            storage: ManuallyDrop::new(Arc::clone(&self.storage)),
            layout: self.layout.clone(),
        }
    }
}

impl<T: Element> Array<T> {
    /// Writes a clone of `self` to `dst`, field by field where they stay (see
    /// [`Layout::clone_to`]); nothing at `dst` is dropped.
    ///
    /// # Safety
    /// `dst` is valid for a write of an `Array<T>`.
    pub(crate) unsafe fn clone_to(&self, dst: *mut Array<T>) {
        use std::ptr::addr_of_mut;
        // SAFETY: `dst` is valid for the write (the caller's promise), so are its fields.
        unsafe {
            addr_of_mut!((*dst).storage).write(ManuallyDrop::new(Arc::clone(&self.storage)));
            self.layout.clone_to(addr_of_mut!((*dst).layout));
        }
    }
}

impl<T: Element> Drop for Array<T> {
    fn drop(&mut self) {
        // SAFETY: `storage` is not used again: this is the array's last moment.
        let storage = unsafe { ManuallyDrop::take(&mut self.storage) };
        pool::recycle(storage);
    }
}

fn new_storage<T: Element>(data: Buffer<T>) -> Arc<Storage<T>> {
    Arc::new(Storage {
        len: data.len(),
        data: RwLock::new(data),
        version: AtomicU64::new(0),
    })
}

/// A kernel's output buffer the allocator refused: the panic payload [`reserve`] raises,
/// which `Op::eval` turns into `ErrorKind::OutOfMemory` (kernels build their outputs
/// without a `Result`, and a failed allocation must not abort the process).
#[derive(Debug)]
pub(crate) struct AllocFailure {
    pub bytes: usize,
}

/// A new buffer of `n` elements, every one written by `fill` (values only): from a `Vec`
/// below [`ALIGNED_BYTES`], else aligned to a cache line (see [`buffer`]). If the
/// allocator refuses, a panic with an [`AllocFailure`] payload (never the abort of
/// `Vec::with_capacity`).
///
/// # Safety
/// `fill` writes every element of the slice it gets (values, not `MaybeUninit::uninit()`).
unsafe fn new_buffer<T: Copy>(n: usize, fill: impl FnOnce(&mut [MaybeUninit<T>])) -> Buffer<T> {
    let refused = |bytes| -> ! {
        quiet_alloc_failures();
        std::panic::panic_any(AllocFailure { bytes })
    };
    let bytes = n.saturating_mul(std::mem::size_of::<T>());
    if bytes >= ALIGNED_BYTES {
        // SAFETY: `fill` writes every element (the caller's promise).
        return unsafe { Buffer::new_with(n, fill) }.unwrap_or_else(|bytes| refused(bytes));
    }
    let mut data = Vec::new();
    if data.try_reserve_exact(n).is_err() {
        refused(bytes);
    }
    fill(&mut data.spare_capacity_mut()[..n]);
    // SAFETY: `fill` wrote each of the first `n` elements (the caller's promise), and the
    // capacity is at least `n`.
    unsafe { data.set_len(n) };
    Buffer::from_vec(data)
}

/// Buffers of this many bytes and more are allocated aligned to a cache line: a 10⁶ f32
/// add ran 10-15% faster so (see [`buffer`]). Smaller ones, which a training step takes
/// from the pool anyway, come from a plain `Vec`.
const ALIGNED_BYTES: usize = 4096;

/// Keeps the panic hook from printing an [`AllocFailure`] (it becomes an `Err`, not a
/// crash): installed once, in front of whatever hook is set, which still sees every other
/// panic.
fn quiet_alloc_failures() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<AllocFailure>().is_none() {
                previous(info);
            }
        }));
    });
}

/// Runs a kernel, turning an [`AllocFailure`] raised inside it into an
/// `ErrorKind::OutOfMemory` error for the op `name` gives (any other panic goes on
/// unwinding). The name is asked for only then: for an [`Op`](crate::ops::Op) it is a
/// match over every op, and every op's forward comes through here.
pub(crate) fn catching_alloc_failure<R>(
    name: impl FnOnce() -> &'static str,
    kernel: impl FnOnce() -> crate::error::Result<R>,
) -> crate::error::Result<R> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(kernel)) {
        Ok(result) => result,
        Err(payload) => match payload.downcast::<AllocFailure>() {
            Ok(failure) => Err(crate::error::Error::new(
                crate::error::ErrorKind::OutOfMemory,
                name(),
                format!("cannot allocate {} bytes for the result", failure.bytes),
            )),
            Err(other) => std::panic::resume_unwind(other),
        },
    }
}

impl<T: Element> Array<T> {
    /// Wraps `data` as a contiguous array; the caller guarantees `data.len() == numel(shape)`.
    pub(crate) fn from_vec(data: Vec<T>, shape: &[usize]) -> Self {
        debug_assert_eq!(data.len(), numel(shape));
        Array {
            storage: ManuallyDrop::new(new_storage(Buffer::from_vec(data))),
            layout: Layout::contiguous(shape),
        }
    }

    /// [`Array::from_vec`] for values tapegrad made itself (random draws, ranges, fills):
    /// a large buffer is moved into cache-line-aligned memory, as the ops' outputs are
    /// (see [`buffer`]). One copy, small beside making the values; if the allocator
    /// refuses it, the `Vec` is kept as it is.
    pub(crate) fn from_vec_aligned(data: Vec<T>, shape: &[usize]) -> Self {
        let bytes = data.len() * std::mem::size_of::<T>();
        if bytes < ALIGNED_BYTES || (data.as_ptr() as usize).is_multiple_of(buffer::ALIGN) {
            return Array::from_vec(data, shape);
        }
        debug_assert_eq!(data.len(), numel(shape));
        // SAFETY: the closure writes every element, from `data`, which is as long.
        let aligned = unsafe {
            Buffer::new_with(data.len(), |out| {
                for (o, &v) in out.iter_mut().zip(&data) {
                    o.write(v);
                }
            })
        };
        match aligned {
            Ok(buffer) => Array {
                storage: ManuallyDrop::new(new_storage(buffer)),
                layout: Layout::contiguous(shape),
            },
            Err(_) => Array::from_vec(data, shape),
        }
    }

    /// A new contiguous array of `shape` whose every element `fill` writes. The buffer
    /// comes from the thread's pool when one of the right size is free (its old values
    /// are stale, which is why `fill` must write them all).
    pub(crate) fn build(shape: &[usize], fill: impl FnOnce(&mut [T])) -> Self {
        let mut out = MaybeUninit::uninit();
        Array::build_into(&mut out, shape, fill);
        // SAFETY: `build_into` wrote the array.
        unsafe { out.assume_init() }
    }

    /// [`Array::build`], written to `out` field by field (see [`Array::place`]).
    #[inline]
    pub(crate) fn build_into(
        out: &mut MaybeUninit<Self>,
        shape: &[usize],
        fill: impl FnOnce(&mut [T]),
    ) {
        let n = numel(shape);
        let storage = match pool::take::<T>(n) {
            Some(mut storage) => {
                let unshared = crate::unique::unique_mut(&mut storage)
                    .expect("a pooled storage has no other handle");
                fill(
                    unshared
                        .data
                        .get_mut()
                        .unwrap_or_else(PoisonError::into_inner),
                );
                storage
            }
            None => {
                // SAFETY: every element is written with a value before `fill` sees them.
                let data = unsafe {
                    new_buffer(n, |out| {
                        for o in out.iter_mut() {
                            o.write(T::default());
                        }
                        // SAFETY: every element was just written (`MaybeUninit<T>` has
                        // `T`'s layout).
                        fill(&mut *(out as *mut [MaybeUninit<T>] as *mut [T]));
                    })
                };
                new_storage(data)
            }
        };
        Array::place(out, storage, shape);
    }

    /// [`Array::build`] without zeroing a new buffer first: for 10⁶ floats that pass costs
    /// as much as a memory-bound kernel itself (PyTorch's `empty`, then the kernel).
    ///
    /// # Safety
    ///
    /// `fill` must write every element of the slice it gets (with values, never with
    /// `MaybeUninit::uninit()`): the array is read as initialized afterwards.
    pub(crate) unsafe fn build_uninit(
        shape: &[usize],
        fill: impl FnOnce(&mut [MaybeUninit<T>]),
    ) -> Self {
        let mut out = MaybeUninit::uninit();
        // SAFETY: the caller's promise about `fill`.
        unsafe {
            Array::build_uninit_into(&mut out, shape, fill);
            out.assume_init()
        }
    }

    /// [`Array::build_uninit`], written to `out` field by field (see [`Array::place`]).
    ///
    /// # Safety
    ///
    /// As [`Array::build_uninit`].
    #[inline]
    pub(crate) unsafe fn build_uninit_into(
        out: &mut MaybeUninit<Self>,
        shape: &[usize],
        fill: impl FnOnce(&mut [MaybeUninit<T>]),
    ) {
        let n = numel(shape);
        let storage = match pool::take::<T>(n) {
            Some(mut storage) => {
                let unshared = crate::unique::unique_mut(&mut storage)
                    .expect("a pooled storage has no other handle");
                let data = unshared
                    .data
                    .get_mut()
                    .unwrap_or_else(PoisonError::into_inner);
                // SAFETY: `MaybeUninit<T>` has `T`'s layout, and `fill` writes only values
                // (the caller's promise), so every element stays initialized.
                fill(unsafe { &mut *(&mut **data as *mut [T] as *mut [MaybeUninit<T>]) });
                storage
            }
            // SAFETY: `fill` writes every element (the caller's promise).
            None => new_storage(unsafe { new_buffer(n, fill) }),
        };
        Array::place(out, storage, shape);
    }

    /// Writes a contiguous array of `shape` over `storage` to `out`, each word where it
    /// stays. Built as a value and then moved, its layout (written word by word) was read
    /// back in 16-byte pieces that straddled those words while they were still being
    /// stored: a stalled store forwarding in every small op (perf on the lecture's manual
    /// step: 4% of its time, in `Sub`, `MulScalar` and `Pow`).
    #[inline(always)]
    fn place(out: &mut MaybeUninit<Self>, storage: Arc<Storage<T>>, shape: &[usize]) {
        let dst = out.as_mut_ptr();
        // SAFETY: `dst` is valid for writes of an `Array<T>` (it is `out`'s), so are its
        // fields; both are written, so `out` holds an array afterwards.
        unsafe {
            std::ptr::addr_of_mut!((*dst).storage).write(ManuallyDrop::new(storage));
            Layout::contiguous_to(shape, std::ptr::addr_of_mut!((*dst).layout));
        }
    }

    pub(crate) fn full(shape: &[usize], value: T) -> Self {
        Array::build(shape, |out| out.fill(value))
    }

    pub(crate) fn scalar(value: T) -> Self {
        Array::full(&[], value)
    }

    /// Another view of the same buffer.
    pub(crate) fn with_layout(&self, layout: Layout) -> Self {
        Array {
            storage: ManuallyDrop::new(Arc::clone(&self.storage)),
            layout,
        }
    }

    /// Overwrites the whole buffer through `fill`, if nothing else holds it and the array
    /// covers it densely from its start: how a static graph reuses an output buffer from
    /// run to run. False, with nothing done, otherwise.
    pub(crate) fn refill(&mut self, fill: impl FnOnce(&mut [T])) -> bool {
        if self.layout.offset != 0 || !self.layout.is_contiguous() {
            return false;
        }
        let n = self.layout.numel();
        match crate::unique::unique_mut(&mut self.storage) {
            Some(storage) => {
                let data = storage
                    .data
                    .get_mut()
                    .unwrap_or_else(PoisonError::into_inner);
                if data.len() != n {
                    return false;
                }
                fill(data);
                true
            }
            None => false,
        }
    }

    pub(crate) fn layout(&self) -> &Layout {
        &self.layout
    }

    pub(crate) fn shape(&self) -> &[usize] {
        &self.layout.shape
    }

    pub(crate) fn ndim(&self) -> usize {
        self.layout.shape.len()
    }

    pub(crate) fn numel(&self) -> usize {
        self.layout.numel()
    }

    pub(crate) fn is_contiguous(&self) -> bool {
        self.layout.is_contiguous()
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Buffer<T>> {
        self.storage
            .data
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Buffer<T>> {
        self.storage
            .data
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn version(&self) -> u64 {
        self.storage.version.load(Ordering::Acquire)
    }

    /// Counts an in-place write, made under `_held`, the storage's write lock: writers
    /// are one at a time, so a load and a store do it, with no locked instruction (some
    /// twenty cycles each on the Xeon measured; see `crate::unique`).
    pub(crate) fn bump_version(&self, _held: &RwLockWriteGuard<'_, Buffer<T>>) {
        let version = &self.storage.version;
        version.store(version.load(Ordering::Relaxed) + 1, Ordering::Release);
    }

    /// Runs `f` on the buffers of `self` and `other`, both read-locked. A storage
    /// read-locked twice by one thread may deadlock, so a shared one is locked once; two
    /// storages are locked in the global order (see [`Array::lock_order`]).
    pub(crate) fn read_with<R>(&self, other: &Array<T>, f: impl FnOnce(&[T], &[T]) -> R) -> R {
        if self.same_storage(other) {
            let mine = self.read();
            return f(&mine, &mine);
        }
        let (mine, theirs) = if self.lock_order() < other.lock_order() {
            let mine = self.read();
            (mine, other.read())
        } else {
            let theirs = other.read();
            (self.read(), theirs)
        };
        f(&mine, &theirs)
    }

    /// The buffer, read without its lock when this is the storage's only handle: `&mut`
    /// on that handle proves no other thread can reach it (a static graph's own outputs).
    /// `None` when the storage is shared.
    pub(crate) fn unshared(&mut self) -> Option<&[T]> {
        let storage = crate::unique::unique_mut(&mut self.storage)?;
        Some(
            storage
                .data
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// Runs `f` on the elements each of `arrays` covers (all contiguous), every storage
    /// read-locked once (a storage read-locked twice by one thread may deadlock) and in
    /// the global order (see [`Array::lock_order`]).
    pub(crate) fn read_all<R>(arrays: &[&Array<T>], f: impl FnOnce(&[&[T]]) -> R) -> R {
        debug_assert!(arrays.iter().all(|a| a.is_contiguous()));
        let mut order: SmallVec<[usize; 4]> = (0..arrays.len()).collect();
        order.sort_unstable_by_key(|&i| arrays[i].lock_order());
        // Guard number `guard_of[i]` holds the storage of `arrays[i]`.
        let mut guards: SmallVec<[RwLockReadGuard<'_, Buffer<T>>; 4]> = SmallVec::new();
        let mut guard_of: SmallVec<[usize; 4]> = SmallVec::from_elem(0, arrays.len());
        let mut last: Option<&Array<T>> = None;
        for &i in &order {
            if !last.is_some_and(|l| l.same_storage(arrays[i])) {
                guards.push(arrays[i].read());
            }
            guard_of[i] = guards.len() - 1;
            last = Some(arrays[i]);
        }
        let slices: SmallVec<[&[T]; 4]> = arrays
            .iter()
            .zip(&guard_of)
            .map(|(a, &g)| &guards[g][a.layout.offset..a.layout.offset + a.numel()])
            .collect();
        f(&slices)
    }

    /// `self` write-locked and `source` read-locked, taken in the global order. The
    /// caller makes sure they are different storages (a copy first, where they are not).
    pub(crate) fn write_reading<'a>(
        &'a self,
        source: &'a Array<T>,
    ) -> (
        RwLockWriteGuard<'a, Buffer<T>>,
        RwLockReadGuard<'a, Buffer<T>>,
    ) {
        debug_assert!(!self.same_storage(source));
        if self.lock_order() < source.lock_order() {
            let written = self.write();
            (written, source.read())
        } else {
            let read = source.read();
            (self.write(), read)
        }
    }

    /// Where this storage stands in the one order every thread takes two storage locks
    /// in (its address), so two threads can never each hold the lock the other waits for.
    pub(crate) fn lock_order(&self) -> usize {
        Arc::as_ptr(&*self.storage) as usize
    }

    pub(crate) fn same_storage(&self, other: &Array<T>) -> bool {
        Arc::ptr_eq(&self.storage, &other.storage)
    }

    /// True when no other array shares this buffer (so it may be reused for a result).
    pub(crate) fn is_unique(&self) -> bool {
        Arc::strong_count(&self.storage) == 1 && Arc::weak_count(&self.storage) == 0
    }

    /// Runs `f` on the contiguous slice this array covers, if it is contiguous.
    pub(crate) fn with_contiguous_slice<R>(&self, f: impl FnOnce(&[T]) -> R) -> Option<R> {
        if !self.is_contiguous() {
            return None;
        }
        let data = self.read();
        let start = self.layout.offset;
        Some(f(&data[start..start + self.numel()]))
    }

    /// The logical contents in row-major order, whatever the strides.
    pub(crate) fn to_vec(&self) -> Vec<T> {
        if let Some(v) = self.with_contiguous_slice(|s| s.to_vec()) {
            return v;
        }
        let mut out = Vec::with_capacity(self.numel());
        elementwise::gather_rows(self, |row| out.extend_from_slice(row));
        out
    }

    /// Writes the logical contents, row-major, into `out` (of exactly `numel` elements).
    pub(crate) fn copy_to(&self, out: &mut [T]) {
        if self
            .with_contiguous_slice(|s| out.copy_from_slice(s))
            .is_none()
        {
            let layout = self.layout();
            let (shape, [strides]) = layout::coalesce(&layout.shape, [&layout.strides]);
            if tiles::wants_tiles(&shape, &[layout::row(&shape, &strides).1]) {
                // A transposed or permuted view: by tiles (see `tiles::for_each_tile`).
                let data = self.read();
                let data: &[T] = &data;
                let nd = shape.len();
                let (cols, steps) = (shape[nd - 1], (strides[nd - 2], strides[nd - 1]));
                tiles::for_each_tile(
                    &shape,
                    [&strides],
                    [layout.offset],
                    out,
                    (tiles::TILE, tiles::TILE),
                    || (),
                    |_, band, j0, h, w, [o]| {
                        tiles::load_tile(data, o, steps, (h, w), &mut band[j0..], cols);
                    },
                );
                return;
            }
            let mut at = 0;
            elementwise::gather_rows(self, |row| {
                out[at..at + row.len()].copy_from_slice(row);
                at += row.len();
            });
        }
    }

    /// This array if it is contiguous, else a contiguous copy.
    pub(crate) fn contiguous(&self) -> Array<T> {
        if self.is_contiguous() {
            self.clone()
        } else {
            self.private_copy()
        }
    }

    /// A contiguous copy in a buffer nobody else holds (from the pool when one fits):
    /// for values that will be written in place or must not alias their source.
    pub(crate) fn private_copy(&self) -> Array<T> {
        Array::build(self.shape(), |out| self.copy_to(out))
    }

    /// The element at a row-major flat index of the logical contents.
    pub(crate) fn get_flat(&self, mut index: usize) -> T {
        let mut offset = self.layout.offset;
        for (&dim, &stride) in self.layout.shape.iter().zip(&self.layout.strides).rev() {
            offset += (index % dim) * stride;
            index /= dim;
        }
        self.read()[offset]
    }

    /// Reshape: a view when contiguous, a copy first otherwise. Caller checks numel.
    pub(crate) fn reshape(&self, shape: &[usize]) -> Array<T> {
        if let Some(layout) = self.layout.squeezed_to(shape) {
            return self.with_layout(layout);
        }
        let base = self.contiguous();
        let offset = base.layout.offset;
        base.with_layout(Layout {
            offset,
            ..Layout::contiguous(shape)
        })
    }

    /// Fills every element this view covers with `value`, in place.
    pub(crate) fn fill_(&self, value: T) {
        elementwise::apply_inplace_scalar(self, |_| value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Buffers of 4 KiB and more that tapegrad allocates (kernel outputs, zeroed or not,
    /// and values it made itself) start on a cache line and hold what was written.
    #[test]
    fn large_buffers_start_on_a_cache_line() {
        let on_a_line = |a: &Array<f32>| (a.read().as_ptr() as usize).is_multiple_of(buffer::ALIGN);
        let filled = Array::<f32>::full(&[2, 1000], 1.5);
        assert!(on_a_line(&filled));
        assert!(filled.read().iter().all(|&v| v == 1.5));
        let mapped = elementwise::map(&filled, |x| x * 2.0);
        assert!(on_a_line(&mapped));
        assert!(mapped.read().iter().all(|&v| v == 3.0));
        let values: Vec<f32> = (0..3000).map(|i| i as f32).collect();
        let made = Array::from_vec_aligned(values.clone(), &[3000]);
        assert!(on_a_line(&made));
        assert_eq!(made.to_vec(), values);
    }
}
