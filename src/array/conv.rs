//! Convolution over `[N, C, H, W]` arrays (pooling is in `pooling.rs`).
//!
//! Convolution is im2col + GEMM: each sample's (and group's) input windows are laid out
//! as the columns of a `[C/g · kh · kw, OH · OW]` matrix, which the weight `[O/g, C/g · kh ·
//! kw]` multiplies. The columns of several samples sit side by side (`[K, n · P]`, up to a
//! memory budget), so each product is wide enough for the GEMM's tiles even when one
//! sample's plane is small (LeNet's second layer: P = 64). Work is split across threads by
//! samples, each thread with its own buffers; the weight gradient sums one partial per
//! thread.
//! (BENCHMARKS.md compares this with a direct loop nest and with PyTorch.)

use super::matmul::{gemm_slices, num_threads, Operand};
use super::select::{contiguous, dense};
use super::Array;
use crate::element::Float;
use std::cell::RefCell;

/// A 2-D window's geometry, for convolution and pooling: kernel size, stride, zero
/// padding on both sides, and dilation (spacing of the kernel's taps), per spatial dim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Window {
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
}

impl Window {
    /// The output size along spatial dim `d` for an input of `size` there, or `None` if
    /// the (dilated) kernel is larger than the padded input.
    pub(crate) fn out_size(&self, d: usize, size: usize) -> Option<usize> {
        // Checked: a padding or dilation near usize::MAX is a bad argument, not a wrap.
        let span = self.dilation[d]
            .checked_mul(self.kernel[d].max(1) - 1)?
            .checked_add(1)?;
        let padded = size.checked_add(self.padding[d].checked_mul(2)?)?;
        (padded >= span && self.stride[d] > 0).then(|| (padded - span) / self.stride[d] + 1)
    }
}

/// The sizes of one convolution: batch, channels, input and output planes, groups.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConvSizes {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub o: usize,
    pub oh: usize,
    pub ow: usize,
    pub groups: usize,
}

impl ConvSizes {
    /// Input channels per group.
    fn cg(&self) -> usize {
        self.c / self.groups
    }
    /// Output channels per group.
    fn og(&self) -> usize {
        self.o / self.groups
    }
    /// Rows of a group's column matrix: `C/g · kh · kw`.
    fn k(&self, win: &Window) -> usize {
        self.cg() * win.kernel[0] * win.kernel[1]
    }
    /// Output positions per plane.
    fn p(&self) -> usize {
        self.oh * self.ow
    }
    /// Multiply-adds of the whole convolution (for deciding on threads).
    fn work(&self, win: &Window) -> usize {
        self.n * self.o * self.p() * self.k(win)
    }
}

/// Below this many multiply-adds a convolution runs on one thread.
const PARALLEL_WORK: usize = 1 << 20;

/// At most this many elements in one column matrix (256 KiB of f32, so it stays in L2 for
/// the GEMM that reads it; 4 MiB measured 2.2x slower on LeNet's conv2): samples go
/// through in sub-batches that fit.
const COLUMN_BUDGET: usize = 1 << 16;

thread_local! {
    /// Each thread's two scratch buffers (columns, and the gradient or product rows), kept
    /// between calls: allocating and zeroing them per call (a fresh `mmap` for the
    /// column matrix) cost as much as the im2col itself. Sized by `COLUMN_BUDGET`.
    static SCRATCH: RefCell<(Vec<u64>, Vec<u64>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// Runs `f` with this thread's scratch buffers as `a` and `b` elements of `T`. Their
/// contents are stale: `f` must write before it reads.
fn with_scratch<T: Float, R>(a: usize, b: usize, f: impl FnOnce(&mut [T], &mut [T]) -> R) -> R {
    // `T` is f32 or f64 (Float is sealed): 8-byte words hold it aligned.
    let words = |n: usize| (n * std::mem::size_of::<T>()).div_ceil(8);
    let view = |v: &mut Vec<u64>, n: usize| -> &mut [T] {
        if v.len() < words(n) {
            v.resize(words(n), 0);
        }
        // SAFETY: the buffer holds at least `n` elements of `T`, is aligned for it (8-byte
        // words, `T` at most 8 bytes), every bit pattern is a valid f32/f64, and the slice
        // borrows `v` mutably for its lifetime.
        unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr() as *mut T, n) }
    };
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buffers) => {
            let (x, y) = &mut *buffers;
            f(view(x, a), view(y, b))
        }
        // Re-entered on this thread (a kernel inside a kernel): plain buffers.
        Err(_) => f(&mut vec![T::zero(); a], &mut vec![T::zero(); b]),
    })
}

/// Samples `0..n` in one contiguous chunk per thread (one chunk if the work is small).
fn sample_chunks(n: usize, work: usize) -> usize {
    let threads = num_threads();
    if threads < 2 || n < 2 || work < PARALLEL_WORK {
        n.max(1)
    } else {
        n.div_ceil(threads.min(n))
    }
}

/// `dst.fill(0)` for short runs, without a `memset` call for the usual empty one.
#[inline(always)]
fn zero_small<T: Float>(dst: &mut [T]) {
    for d in dst {
        *d = T::zero();
    }
}

/// Writes one sample's group input windows (`x`: `C/g` planes of `h · w`) into the
/// column matrix whose rows (`C/g · kh · kw` of them) start `ld` apart: this sample's
/// `oh · ow` columns of each row, zeros where a window reaches into the padding.
fn im2col<T: Float>(x: &[T], s: &ConvSizes, win: &Window, col: &mut [T], ld: usize) {
    let (h, w, oh, ow) = (s.h, s.w, s.oh, s.ow);
    let [s0, s1] = win.stride;
    let [p0, p1] = win.padding;
    let mut row_index = 0;
    for plane in x.chunks_exact(h * w).take(s.cg()) {
        for i in 0..win.kernel[0] {
            let di = i * win.dilation[0];
            let (y0, y1) = valid_range(s0, di, p0, h, oh);
            for j in 0..win.kernel[1] {
                let row = &mut col[row_index * ld..row_index * ld + oh * ow];
                row_index += 1;
                let dj = j * win.dilation[1];
                let (x0, x1) = valid_range(s1, dj, p1, w, ow);
                if y0 > 0 {
                    row[..y0 * ow].fill(T::zero());
                }
                if y1 < oh {
                    row[y1 * ow..].fill(T::zero());
                }
                if x0 > 0 || x1 < ow {
                    for out in row[y0 * ow..y1 * ow].chunks_exact_mut(ow) {
                        zero_small(&mut out[..x0]);
                        zero_small(&mut out[x1..]);
                    }
                }
                if x0 == x1 || y0 == y1 {
                    continue;
                }
                // Input row of output row y0, shifted to its first valid column.
                let start = (y0 * s0 + di - p0) * w + x0 * s1 + dj - p1;
                if s1 == 1 {
                    copy_block(
                        &mut row[y0 * ow + x0..],
                        ow,
                        &plane[start..],
                        s0 * w,
                        (y1 - y0, x1 - x0),
                    );
                } else {
                    for (y, out) in row[y0 * ow..y1 * ow].chunks_exact_mut(ow).enumerate() {
                        let from = start + y * s0 * w;
                        for (x, o) in out[x0..x1].iter_mut().enumerate() {
                            *o = plane[from + x * s1];
                        }
                    }
                }
            }
        }
    }
}

/// Copies a block of `rows` runs of `len` elements: run `r` from `src[r · src_stride..]`
/// to `dst[r · dst_stride..]`, eight elements per move (im2col's runs are a window row,
/// often 8 to 32 elements, too short for a `memcpy` call to pay).
fn copy_block<T: Copy>(
    dst: &mut [T],
    dst_stride: usize,
    src: &[T],
    src_stride: usize,
    (rows, len): (usize, usize),
) {
    if rows == 0 || len == 0 {
        return;
    }
    assert!(
        (rows - 1) * dst_stride + len <= dst.len() && (rows - 1) * src_stride + len <= src.len(),
        "copy_block: a run outside its buffer"
    );
    let (d, s) = (dst.as_mut_ptr(), src.as_ptr());
    for r in 0..rows {
        // SAFETY: the assert above puts every run, `r · stride .. r · stride + len`, inside
        // its slice (r < rows); `dst` and `src` are distinct borrows, so they do not overlap.
        unsafe {
            let (dr, sr) = (d.add(r * dst_stride), s.add(r * src_stride));
            if len >= 8 {
                let mut k = 0;
                while k + 8 <= len {
                    let block = std::ptr::read_unaligned(sr.add(k) as *const [T; 8]);
                    std::ptr::write_unaligned(dr.add(k) as *mut [T; 8], block);
                    k += 8;
                }
                if k < len {
                    // The tail as one more block of 8, overlapping the last one.
                    let block = std::ptr::read_unaligned(sr.add(len - 8) as *const [T; 8]);
                    std::ptr::write_unaligned(dr.add(len - 8) as *mut [T; 8], block);
                }
            } else {
                for k in 0..len {
                    *dr.add(k) = *sr.add(k);
                }
            }
        }
    }
}

/// The outputs `o` in `0..outputs` whose tap reads inside the input along one dim:
/// `0 <= o·stride + offset - pad < size`, as the range `(first, end)`.
fn valid_range(
    stride: usize,
    offset: usize,
    pad: usize,
    size: usize,
    outputs: usize,
) -> (usize, usize) {
    let first = if offset >= pad {
        0
    } else {
        (pad - offset).div_ceil(stride)
    }
    .min(outputs);
    let end = if size + pad > offset {
        ((size + pad - offset - 1) / stride + 1).min(outputs)
    } else {
        0
    };
    (first, end.max(first))
}

/// The adjoint of [`im2col`]: adds this sample's columns of each row of `col` (rows `ld`
/// apart) back onto the input positions its windows read.
fn col2im<T: Float>(col: &[T], ld: usize, s: &ConvSizes, win: &Window, x: &mut [T]) {
    let (h, w, oh, ow) = (s.h, s.w, s.oh, s.ow);
    let [s0, s1] = win.stride;
    let [p0, p1] = win.padding;
    let mut row_index = 0;
    for plane in x.chunks_exact_mut(h * w).take(s.cg()) {
        for i in 0..win.kernel[0] {
            let di = i * win.dilation[0];
            let (y0, y1) = valid_range(s0, di, p0, h, oh);
            for j in 0..win.kernel[1] {
                let row = &col[row_index * ld..row_index * ld + oh * ow];
                row_index += 1;
                let dj = j * win.dilation[1];
                let (x0, x1) = valid_range(s1, dj, p1, w, ow);
                if x0 == x1 {
                    continue;
                }
                for y in y0..y1 {
                    let src = &row[y * ow + x0..y * ow + x1];
                    // The input position of output column x0 (inside the input: x0 is the
                    // first column whose tap is).
                    let start = (y * s0 + di - p0) * w + x0 * s1 + dj - p1;
                    if s1 == 1 {
                        let dst = &mut plane[start..start + (x1 - x0)];
                        for (d, &v) in dst.iter_mut().zip(src) {
                            *d = *d + v;
                        }
                    } else {
                        for (x, &v) in src.iter().enumerate() {
                            let at = start + x * s1;
                            plane[at] = plane[at] + v;
                        }
                    }
                }
            }
        }
    }
}

/// Runs `body(first_sample, chunk)` over `out` split into per-thread chunks of whole
/// samples (`per_sample` elements each), shared by this thread and rayon's pool when
/// there is more than one ([`super::fork::fork_join`]).
pub(crate) fn for_sample_chunks<T: Float>(
    out: &mut [T],
    per_sample: usize,
    chunk: usize,
    body: impl Fn(usize, &mut [T]) + Sync,
) {
    if per_sample == 0 {
        return;
    }
    let total = out.len() / per_sample;
    if chunk >= total {
        body(0, out);
        return;
    }
    super::fork::fork_join(
        out.chunks_mut(chunk * per_sample).enumerate(),
        |(i, part)| body(i * chunk, part),
    );
}

/// How many samples go into one column matrix: as many as fit the budget, at least one.
fn sub_batch(s: &ConvSizes, win: &Window) -> usize {
    (COLUMN_BUDGET / (s.k(win) * s.p()).max(1)).max(1)
}

/// The samples `first..first + count` of group `g` as one column matrix
/// `[C/g · kh · kw, count · oh · ow]` (sample `i`'s windows in columns `i·P..(i+1)·P`).
fn batch_columns<T: Float>(
    xs: &[T],
    s: &ConvSizes,
    win: &Window,
    (first, count, g): (usize, usize, usize),
    col: &mut [T],
) {
    let (plane, p) = (s.h * s.w, s.p());
    for i in 0..count {
        let x = &xs[((first + i) * s.c + g * s.cg()) * plane..][..s.cg() * plane];
        im2col(x, s, win, &mut col[i * p..], count * p);
    }
}

/// Group `g`'s slice of `per_sample`-strided data for samples `first..first + count`,
/// gathered as one matrix `[rows, count · p]` (the output gradient's `[O/g, count · P]`).
fn gather_rows<T: Float>(
    data: &[T],
    (per_sample, offset, rows, p): (usize, usize, usize, usize),
    (first, count): (usize, usize),
    out: &mut [T],
) {
    let ld = count * p;
    for i in 0..count {
        let src = &data[(first + i) * per_sample + offset..][..rows * p];
        for (r, row) in src.chunks_exact(p).enumerate() {
            out[r * ld + i * p..r * ld + (i + 1) * p].copy_from_slice(row);
        }
    }
}

/// `conv2d(x, w) (+ b)`: `x` `[N, C, H, W]`, `w` `[O, C/g, kh, kw]`, `b` `[O]`, into an
/// output `[N, O, OH, OW]` (the caller checked the shapes). Per sub-batch and group, one
/// product `w_g [O/g, K] · cols [K, n · P]`, then each sample's block moved into place.
pub(crate) fn conv2d<T: Float>(
    x: &Array<T>,
    w: &Array<T>,
    b: Option<&Array<T>>,
    s: &ConvSizes,
    win: &Window,
) -> Array<T> {
    let (x, w) = (contiguous(x), contiguous(w));
    let b = b.map(|b| contiguous(b).to_vec());
    let (xs, ws) = (dense(&x), dense(&w));
    let (xs, ws): (&[T], &[T]) = (&xs, &ws);
    let (k, p, og) = (s.k(win), s.p(), s.og());
    let chunk = sample_chunks(s.n, s.work(win));
    let sub = sub_batch(s, win);
    Array::build(&[s.n, s.o, s.oh, s.ow], |out| {
        for_sample_chunks(out, s.o * p, chunk, |first, part| {
            let samples = part.len() / (s.o * p).max(1);
            let most = sub.min(samples);
            with_scratch::<T, _>(k * most * p, og * most * p, |col, product| {
                for start in (0..samples).step_by(most.max(1)) {
                    let count = most.min(samples - start);
                    for g in 0..s.groups {
                        let col = &mut col[..k * count * p];
                        batch_columns(xs, s, win, (first + start, count, g), col);
                        let weight = Operand {
                            data: &ws[g * og * k..(g + 1) * og * k],
                            rs: k,
                            cs: 1,
                        };
                        let columns = Operand {
                            data: col,
                            rs: count * p,
                            cs: 1,
                        };
                        let product = &mut product[..og * count * p];
                        gemm_slices(og, count * p, k, &weight, &columns, product, false);
                        for i in 0..count {
                            let y = &mut part[((start + i) * s.o + g * og) * p..][..og * p];
                            for (o, plane) in y.chunks_exact_mut(p).enumerate() {
                                let bias = b.as_ref().map_or(T::zero(), |b| b[g * og + o]);
                                let src = &product[o * count * p + i * p..][..p];
                                for (d, &v) in plane.iter_mut().zip(src) {
                                    *d = v + bias;
                                }
                            }
                        }
                    }
                }
            });
        });
    })
}

/// The gradient of `conv2d` with respect to its input, `[N, C, H, W]`, from the output's
/// gradient `g` `[N, O, OH, OW]` and the weight: per sub-batch and group, `w_gᵀ g` as
/// columns, added back onto the windows they came from.
pub(crate) fn conv2d_input_grad<T: Float>(
    g: &Array<T>,
    w: &Array<T>,
    s: &ConvSizes,
    win: &Window,
) -> Array<T> {
    let (g, w) = (contiguous(g), contiguous(w));
    let (gs, ws) = (dense(&g), dense(&w));
    let (gs, ws): (&[T], &[T]) = (&gs, &ws);
    let (k, p, og, cg) = (s.k(win), s.p(), s.og(), s.cg());
    let chunk = sample_chunks(s.n, s.work(win));
    let sub = sub_batch(s, win);
    let plane = s.h * s.w;
    Array::build(&[s.n, s.c, s.h, s.w], |out| {
        for_sample_chunks(out, s.c * plane, chunk, |first, part| {
            part.fill(T::zero());
            let samples = part.len() / (s.c * plane).max(1);
            let most = sub.min(samples);
            with_scratch::<T, _>(k * most * p, og * most * p, |col, grads| {
                for start in (0..samples).step_by(most.max(1)) {
                    let count = most.min(samples - start);
                    for grp in 0..s.groups {
                        let grads = &mut grads[..og * count * p];
                        gather_rows(
                            gs,
                            (s.o * p, grp * og * p, og, p),
                            (first + start, count),
                            grads,
                        );
                        let weight_t = Operand {
                            data: &ws[grp * og * k..(grp + 1) * og * k],
                            rs: 1,
                            cs: k,
                        };
                        let grad = Operand {
                            data: grads,
                            rs: count * p,
                            cs: 1,
                        };
                        let col = &mut col[..k * count * p];
                        gemm_slices(k, count * p, og, &weight_t, &grad, col, false);
                        for i in 0..count {
                            let dx =
                                &mut part[((start + i) * s.c + grp * cg) * plane..][..cg * plane];
                            col2im(&col[i * p..], count * p, s, win, dx);
                        }
                    }
                }
            });
        });
    })
}

/// The gradient of `conv2d` with respect to its weight, `[O, C/g, kh, kw]`, from the
/// input `x` and the output's gradient `g`: `Σ g colsᵀ` over sub-batches, one partial
/// sum per thread.
pub(crate) fn conv2d_weight_grad<T: Float>(
    x: &Array<T>,
    g: &Array<T>,
    s: &ConvSizes,
    win: &Window,
) -> Array<T> {
    let (x, g) = (contiguous(x), contiguous(g));
    let (xs, gs) = (dense(&x), dense(&g));
    let (xs, gs): (&[T], &[T]) = (&xs, &gs);
    let (k, p, og, cg) = (s.k(win), s.p(), s.og(), s.cg());
    let chunk = sample_chunks(s.n, s.work(win));
    let sub = sub_batch(s, win);
    let numel = s.o * k;
    let partial = |first: usize, samples: usize, dw: &mut [T]| {
        dw.fill(T::zero());
        let most = sub.min(samples);
        with_scratch::<T, _>(k * most * p, og * most * p, |col, grads| {
            for start in (0..samples).step_by(most.max(1)) {
                let count = most.min(samples - start);
                for (grp, dw) in dw.chunks_exact_mut(og * k).enumerate() {
                    let col = &mut col[..k * count * p];
                    batch_columns(xs, s, win, (first + start, count, grp), col);
                    let grads = &mut grads[..og * count * p];
                    gather_rows(
                        gs,
                        (s.o * p, grp * og * p, og, p),
                        (first + start, count),
                        grads,
                    );
                    let grad = Operand {
                        data: grads,
                        rs: count * p,
                        cs: 1,
                    };
                    let columns_t = Operand {
                        data: col,
                        rs: 1,
                        cs: count * p,
                    };
                    gemm_slices(og, k, count * p, &grad, &columns_t, dw, true);
                }
            }
        });
    };
    Array::build(&[s.o, cg, win.kernel[0], win.kernel[1]], |out| {
        if chunk >= s.n {
            partial(0, s.n, out);
            return;
        }
        let parts = s.n.div_ceil(chunk);
        let mut sums = vec![T::zero(); parts * numel];
        for_sample_chunks(&mut sums, numel, 1, |i, dw| {
            partial(i * chunk, chunk.min(s.n - i * chunk), dw)
        });
        out.fill(T::zero());
        for part in sums.chunks_exact(numel) {
            for (o, &v) in out.iter_mut().zip(part) {
                *o = *o + v;
            }
        }
    })
}
