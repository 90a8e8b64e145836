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
//! - `matmul.rs`: batched matmul through the `gemm` crate, with a loop for tiny products.

mod elementwise;
mod layout;
mod matmul;
mod reduce;

pub(crate) use elementwise::{apply_inplace, apply_inplace_scalar, map, zip_map};
pub(crate) use layout::Layout;
pub(crate) use matmul::matmul;
pub(crate) use reduce::{argmax_dim, max_dim, sum_all, sum_dim, sum_to_shape};

use crate::shape::{numel, Shape};
use num_traits::Float;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// A buffer shared by every view of it, with a version counter that in-place writes bump
/// (autograd compares it to detect a saved value that changed before backward).
#[derive(Debug)]
pub(crate) struct Storage<T> {
    data: RwLock<Vec<T>>,
    version: AtomicU64,
}

/// A strided view of a [`Storage`]. Cloning is cheap: it shares the buffer.
#[derive(Debug, Clone)]
pub(crate) struct Array<T> {
    storage: Arc<Storage<T>>,
    layout: Layout,
}

impl<T: Float> Array<T> {
    /// Wraps `data` as a contiguous array; the caller guarantees `data.len() == numel(shape)`.
    pub(crate) fn from_vec(data: Vec<T>, shape: &[usize]) -> Self {
        debug_assert_eq!(data.len(), numel(shape));
        Array {
            storage: Arc::new(Storage {
                data: RwLock::new(data),
                version: AtomicU64::new(0),
            }),
            layout: Layout::contiguous(shape),
        }
    }

    pub(crate) fn full(shape: &[usize], value: T) -> Self {
        Array::from_vec(vec![value; numel(shape)], shape)
    }

    pub(crate) fn scalar(value: T) -> Self {
        Array::from_vec(vec![value], &[])
    }

    /// Another view of the same buffer.
    pub(crate) fn with_layout(&self, layout: Layout) -> Self {
        Array {
            storage: Arc::clone(&self.storage),
            layout,
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

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Vec<T>> {
        self.storage
            .data
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Vec<T>> {
        self.storage
            .data
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn version(&self) -> u64 {
        self.storage.version.load(Ordering::Acquire)
    }

    pub(crate) fn bump_version(&self) {
        self.storage.version.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn same_storage(&self, other: &Array<T>) -> bool {
        Arc::ptr_eq(&self.storage, &other.storage)
    }

    /// True when no other array shares this buffer (so it may be reused for a result).
    pub(crate) fn is_unique(&self) -> bool {
        Arc::strong_count(&self.storage) == 1
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
        map(self, |x| x).into_vec()
    }

    /// Consumes a contiguous array that owns its buffer alone, or copies otherwise.
    pub(crate) fn into_vec(self) -> Vec<T> {
        if self.is_contiguous() && self.layout.offset == 0 && self.numel() == self.read().len() {
            match Arc::try_unwrap(self.storage) {
                Ok(storage) => {
                    return storage
                        .data
                        .into_inner()
                        .unwrap_or_else(PoisonError::into_inner)
                }
                Err(storage) => {
                    return Array {
                        storage,
                        layout: self.layout,
                    }
                    .to_vec()
                }
            }
        }
        self.to_vec()
    }

    /// This array if it is contiguous, else a contiguous copy.
    pub(crate) fn contiguous(&self) -> Array<T> {
        if self.is_contiguous() {
            self.clone()
        } else {
            map(self, |x| x)
        }
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

    pub(crate) fn shape_vec(&self) -> Shape {
        self.layout.shape.clone()
    }
}
