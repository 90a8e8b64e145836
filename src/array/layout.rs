//! Shape + strides + offset: which elements of a buffer a view sees, and in what order.

use crate::shape::{contiguous_strides, numel, shape_of, Shape};

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) shape: Shape,
    pub(crate) strides: Shape,
    pub(crate) offset: usize,
}

// Written out because SmallVec's own `clone` copies element by element through an
// iterator; `from_slice` copies the inline words at once (`usize` is `Copy`). Layouts are
// cloned for every view and every saved value, so this shows in small training steps.
impl Layout {
    /// Writes a clone of `self` to `dst`, which holds no layout (nothing there is
    /// dropped). An inline layout is copied straight from its place to `dst`, with no
    /// value on the stack between: a clone returned and then moved was read back before
    /// its stores had landed (a store-forwarding stall, perf on W3's `record`).
    ///
    /// # Safety
    /// `dst` is valid for a write of a `Layout`.
    #[inline]
    pub(crate) unsafe fn clone_to(&self, dst: *mut Layout) {
        if !self.shape.spilled() && !self.strides.spilled() {
            // SAFETY: as in `clone`, an inline layout copied bit for bit is an independent,
            // valid one; `dst` is valid for the write (the caller's promise).
            unsafe { std::ptr::copy_nonoverlapping(self, dst, 1) };
        } else {
            // SAFETY: the caller's promise.
            unsafe { dst.write(self.clone()) };
        }
    }
}

impl Clone for Layout {
    #[inline]
    fn clone(&self) -> Self {
        if !self.shape.spilled() && !self.strides.spilled() {
            // SAFETY: both vectors keep their (`Copy`) elements inline and own no heap
            // memory, so a bitwise copy is an independent, valid layout: one block move.
            return unsafe { std::ptr::read(self) };
        }
        Layout {
            shape: shape_of(&self.shape),
            strides: shape_of(&self.strides),
            offset: self.offset,
        }
    }
}

impl Layout {
    #[inline]
    pub(crate) fn contiguous(shape: &[usize]) -> Self {
        let mut layout = std::mem::MaybeUninit::uninit();
        // SAFETY: `layout` is valid for the write, which initializes it.
        unsafe {
            Layout::contiguous_to(shape, layout.as_mut_ptr());
            layout.assume_init()
        }
    }

    /// Writes [`Layout::contiguous`] of `shape` to `dst` (nothing there is dropped), each
    /// field straight to its place: see [`super::Array::place`].
    ///
    /// # Safety
    /// `dst` is valid for a write of a `Layout`.
    #[inline(always)]
    pub(crate) unsafe fn contiguous_to(shape: &[usize], dst: *mut Layout) {
        use std::ptr::addr_of_mut;
        let nd = shape.len();
        if nd > 4 {
            // SAFETY: the caller's promise.
            return unsafe { dst.write(Layout::contiguous_spilled(shape)) };
        }
        // Up to 4 dims (every op of the lecture): both arrays built in registers, with no
        // loop over a `SmallVec` and no branch on whether it spilled.
        let dims: [usize; 4] = std::array::from_fn(|i| if i < nd { shape[i] } else { 1 });
        let strides = [
            dims[1].max(1) * dims[2].max(1) * dims[3].max(1),
            dims[2].max(1) * dims[3].max(1),
            dims[3].max(1),
            1,
        ];
        // Dims after the last are padded with 1, so `strides[i]` is the product of the dims
        // after dim i (a dim of size 0 counts as 1, as in `contiguous_strides`).
        let strides: [usize; 4] = std::array::from_fn(|i| if i < nd { strides[i] } else { 0 });
        // SAFETY: the caller's promise; each field is written once.
        unsafe {
            addr_of_mut!((*dst).shape).write(shape_of(shape));
            addr_of_mut!((*dst).strides).write(Shape::from_buf_and_len(strides, nd));
            addr_of_mut!((*dst).offset).write(0);
        }
    }

    /// [`Layout::contiguous`] of more than 4 dims, out of line: the common case stays
    /// small enough to inline, with no registers saved for this one.
    #[cold]
    #[inline(never)]
    fn contiguous_spilled(shape: &[usize]) -> Self {
        Layout {
            shape: shape_of(shape),
            strides: contiguous_strides(shape),
            offset: 0,
        }
    }

    #[inline]
    pub(crate) fn numel(&self) -> usize {
        numel(&self.shape)
    }

    /// Row-major and dense. Dims of size 1 may have any stride; an empty layout (a dim of
    /// size 0 anywhere) covers nothing, so it is contiguous whatever its strides.
    #[inline]
    pub(crate) fn is_contiguous(&self) -> bool {
        // One pass: a stride out of place is decisive only once no dim of size 0 can follow.
        let mut expected = 1;
        let mut dense = true;
        for (&dim, &stride) in self.shape.iter().zip(&self.strides).rev() {
            if dim == 0 {
                return true;
            }
            dense &= dim == 1 || stride == expected;
            expected *= dim;
        }
        dense
    }

    /// Swaps two dims (no copy). Caller checks the dims.
    pub(crate) fn transpose(&self, d0: usize, d1: usize) -> Layout {
        let mut out = self.clone();
        out.shape.swap(d0, d1);
        out.strides.swap(d0, d1);
        out
    }

    /// Reorders dims: dim `i` of the result is dim `dims[i]` of `self`. Caller checks `dims`.
    pub(crate) fn permute(&self, dims: &[usize]) -> Layout {
        Layout {
            shape: dims.iter().map(|&d| self.shape[d]).collect(),
            strides: dims.iter().map(|&d| self.strides[d]).collect(),
            offset: self.offset,
        }
    }

    /// A view of `shape` where broadcast dims get stride 0. Caller checks broadcastability.
    pub(crate) fn broadcast_to(&self, shape: &[usize]) -> Layout {
        let lead = shape.len() - self.shape.len();
        let strides = (0..shape.len())
            .map(|i| {
                if i < lead || self.shape[i - lead] != shape[i] {
                    0
                } else {
                    self.strides[i - lead]
                }
            })
            .collect();
        Layout {
            shape: shape_of(shape),
            strides,
            offset: self.offset,
        }
    }

    /// This layout with size-1 dims added or removed to make `shape`, if that is all the
    /// reshape does: then it is a view whatever the strides (`squeeze`, `unsqueeze`, `i(..)`
    /// of a transposed tensor copy nothing).
    pub(crate) fn squeezed_to(&self, shape: &[usize]) -> Option<Layout> {
        let mut kept = self
            .shape
            .iter()
            .zip(&self.strides)
            .filter(|(d, _)| **d != 1);
        let mut strides = Shape::new();
        for &d in shape {
            if d == 1 {
                strides.push(0);
            } else {
                let (&have, &stride) = kept.next()?;
                if have != d {
                    return None;
                }
                strides.push(stride);
            }
        }
        if kept.next().is_some() {
            return None;
        }
        Some(Layout {
            shape: shape_of(shape),
            strides,
            offset: self.offset,
        })
    }

    /// True if two logical positions share one memory location (a broadcast view): writing
    /// through such a layout would be ambiguous.
    #[inline]
    pub(crate) fn has_overlap(&self) -> bool {
        self.shape
            .iter()
            .zip(&self.strides)
            .any(|(&d, &s)| d > 1 && s == 0)
    }
}

/// Visits every row of `shape` (all dims but the last), passing the offset of the row's
/// first element in each of `N` layouts. Zero-size shapes visit nothing; a scalar visits
/// one row. Rows are walked with an odometer, so each step costs a few additions.
pub(crate) fn for_each_row<const N: usize>(
    shape: &[usize],
    strides: [&[usize]; N],
    start: [usize; N],
    mut f: impl FnMut([usize; N]),
) {
    if shape.contains(&0) {
        return;
    }
    let nd = shape.len();
    if nd <= 1 {
        f(start);
        return;
    }
    let outer = &shape[..nd - 1];
    let mut index: Shape = smallvec::smallvec![0; nd - 1];
    let mut offsets = start;
    loop {
        f(offsets);
        let mut d = nd - 1;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            index[d] += 1;
            for k in 0..N {
                offsets[k] += strides[k][d];
            }
            if index[d] < outer[d] {
                break;
            }
            for k in 0..N {
                offsets[k] -= strides[k][d] * outer[d];
            }
            index[d] = 0;
        }
    }
}

/// Length and stride of the last dim (1 and 0 for a scalar).
pub(crate) fn row(shape: &[usize], strides: &[usize]) -> (usize, usize) {
    match (shape.last(), strides.last()) {
        (Some(&n), Some(&s)) => (n, s),
        _ => (1, 0),
    }
}

/// Merges neighbouring dims that every one of `N` layouts walks as one (stride of the outer
/// = stride of the inner × its size) and drops dims of size 1, so a strided walk makes as
/// few, as long rows as possible: a `[64, 2]` broadcast of a scalar becomes one row of 128
/// with stride 0, a transposed matrix stays two dims.
pub(crate) fn coalesce<const N: usize>(
    shape: &[usize],
    strides: [&[usize]; N],
) -> (Shape, [Shape; N]) {
    let mut out_shape = Shape::new();
    let mut out_strides: [Shape; N] = std::array::from_fn(|_| Shape::new());
    for d in 0..shape.len() {
        if shape[d] == 1 {
            continue;
        }
        let mergeable = !out_shape.is_empty()
            && (0..N).all(|k| out_strides[k].last() == Some(&(strides[k][d] * shape[d])));
        if mergeable {
            *out_shape.last_mut().expect("not empty") *= shape[d];
            for k in 0..N {
                *out_strides[k].last_mut().expect("not empty") = strides[k][d];
            }
        } else {
            out_shape.push(shape[d]);
            for k in 0..N {
                out_strides[k].push(strides[k][d]);
            }
        }
    }
    (out_shape, out_strides)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The unrolled `contiguous` agrees with the general `contiguous_strides` on every
    /// shape of 0 to 6 dims with sizes 0 to 3 (sizes 0 and 1 are the edge cases).
    #[test]
    fn contiguous_matches_the_general_strides() {
        for nd in 0..=6u32 {
            for code in 0..4usize.pow(nd) {
                let shape: Vec<usize> = (0..nd).map(|d| (code / 4usize.pow(d)) % 4).collect();
                let layout = Layout::contiguous(&shape);
                assert_eq!(layout.shape.as_slice(), shape.as_slice());
                assert_eq!(layout.strides, contiguous_strides(&shape), "{shape:?}");
                assert_eq!(layout.offset, 0);
            }
        }
    }
}
