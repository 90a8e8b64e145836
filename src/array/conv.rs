//! Convolution and pooling over `[N, C, H, W]` arrays.
//!
//! Convolution is im2col + GEMM: each sample's (and group's) input windows are laid out
//! as the columns of a `[C/g · kh · kw, OH · OW]` matrix, which the weight `[O/g, C/g · kh ·
//! kw]` multiplies in one product. A 1x1 kernel with stride 1 and no padding needs no
//! copy: the input already is that matrix. Work is split across threads by samples, each
//! thread with its own column buffer; the weight gradient sums one partial per thread.
//! (BENCHMARKS.md compares this with a direct loop nest and with PyTorch.)
//!
//! Pooling walks each output's window; max-pooling's backward finds the window's maximum
//! again rather than keeping its index (a pass over the input is cheap next to the convs
//! around it, and it keeps the op's inputs plain arrays).

use super::matmul::{gemm_slices, num_threads, Operand};
use super::select::{contiguous, dense};
use super::Array;
use crate::element::Float;

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
        let span = self.dilation[d] * (self.kernel[d].max(1) - 1) + 1;
        let padded = size + 2 * self.padding[d];
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
    /// True if the column matrix is the input itself.
    fn is_pointwise(&self, win: &Window) -> bool {
        win.kernel == [1, 1] && win.stride == [1, 1] && win.padding == [0, 0]
    }
    /// Multiply-adds of the whole convolution (for deciding on threads).
    fn work(&self, win: &Window) -> usize {
        self.n * self.o * self.p() * self.k(win)
    }
}

/// Below this many multiply-adds a convolution runs on one thread.
const PARALLEL_WORK: usize = 1 << 20;

/// Samples `0..n` in one contiguous chunk per thread (one chunk if the work is small).
fn sample_chunks(n: usize, work: usize) -> usize {
    let threads = num_threads();
    if threads < 2 || n < 2 || work < PARALLEL_WORK {
        n.max(1)
    } else {
        n.div_ceil(threads.min(n))
    }
}

/// Writes one group's input windows (`x`: `C/g` planes of `h · w`) as the rows of `col`
/// (`[C/g · kh · kw, oh · ow]`), zeros where a window reaches into the padding.
fn im2col<T: Float>(x: &[T], s: &ConvSizes, win: &Window, col: &mut [T]) {
    let (h, w, oh, ow) = (s.h, s.w, s.oh, s.ow);
    let [s0, s1] = win.stride;
    let [p0, p1] = win.padding;
    let mut rows = col.chunks_exact_mut(oh * ow);
    for plane in x.chunks_exact(h * w).take(s.cg()) {
        for i in 0..win.kernel[0] {
            for j in 0..win.kernel[1] {
                let row = rows.next().expect("col holds C/g · kh · kw rows");
                let (di, dj) = (i * win.dilation[0], j * win.dilation[1]);
                for (y, out) in row.chunks_exact_mut(ow).enumerate() {
                    let ih = y * s0 + di;
                    if ih < p0 || ih - p0 >= h {
                        out.fill(T::zero());
                        continue;
                    }
                    let src = &plane[(ih - p0) * w..(ih - p0 + 1) * w];
                    if s1 == 1 {
                        // Columns x with 0 <= x + dj - p1 < w form one run.
                        let lo = p1.saturating_sub(dj).min(ow);
                        let hi = (w + p1).saturating_sub(dj).min(ow).max(lo);
                        out[..lo].fill(T::zero());
                        out[hi..].fill(T::zero());
                        if lo < hi {
                            out[lo..hi].copy_from_slice(&src[lo + dj - p1..hi + dj - p1]);
                        }
                    } else {
                        for (x, o) in out.iter_mut().enumerate() {
                            let iw = x * s1 + dj;
                            *o = if iw >= p1 && iw - p1 < w {
                                src[iw - p1]
                            } else {
                                T::zero()
                            };
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: adds each row of `col` back onto the input positions its
/// windows read (`x` must start zeroed or hold what it should be added to).
fn col2im<T: Float>(col: &[T], s: &ConvSizes, win: &Window, x: &mut [T]) {
    let (h, w, oh, ow) = (s.h, s.w, s.oh, s.ow);
    let [s0, s1] = win.stride;
    let [p0, p1] = win.padding;
    let mut rows = col.chunks_exact(oh * ow);
    for plane in x.chunks_exact_mut(h * w).take(s.cg()) {
        for i in 0..win.kernel[0] {
            for j in 0..win.kernel[1] {
                let row = rows.next().expect("col holds C/g · kh · kw rows");
                let (di, dj) = (i * win.dilation[0], j * win.dilation[1]);
                for (y, src) in row.chunks_exact(ow).enumerate() {
                    let ih = y * s0 + di;
                    if ih < p0 || ih - p0 >= h {
                        continue;
                    }
                    let dst = &mut plane[(ih - p0) * w..(ih - p0 + 1) * w];
                    for (x, &v) in src.iter().enumerate() {
                        let iw = x * s1 + dj;
                        if iw >= p1 && iw - p1 < w {
                            dst[iw - p1] = dst[iw - p1] + v;
                        }
                    }
                }
            }
        }
    }
}

/// Runs `body(first_sample, chunk)` over `out` split into per-thread chunks of whole
/// samples (`per_sample` elements each), on rayon's pool when there is more than one.
fn for_sample_chunks<T: Float>(
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
    rayon::scope(|scope| {
        for (i, part) in out.chunks_mut(chunk * per_sample).enumerate() {
            let body = &body;
            scope.spawn(move |_| body(i * chunk, part));
        }
    });
}

/// `conv2d(x, w) (+ b)`: `x` `[N, C, H, W]`, `w` `[O, C/g, kh, kw]`, `b` `[O]`, into an
/// output `[N, O, OH, OW]` (the caller checked the shapes).
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
    let (k, p, og, cg) = (s.k(win), s.p(), s.og(), s.cg());
    let chunk = sample_chunks(s.n, s.work(win));
    let pointwise = s.is_pointwise(win);
    Array::build(&[s.n, s.o, s.oh, s.ow], |out| {
        for_sample_chunks(out, s.o * p, chunk, |first, part| {
            let mut col = vec![T::zero(); if pointwise { 0 } else { k * p }];
            for (i, y) in part.chunks_exact_mut(s.o * p).enumerate() {
                let sample = &xs[(first + i) * s.c * s.h * s.w..][..s.c * s.h * s.w];
                for (g, y) in y.chunks_exact_mut(og * p).enumerate() {
                    let xg = &sample[g * cg * s.h * s.w..][..cg * s.h * s.w];
                    let columns = if pointwise {
                        xg
                    } else {
                        im2col(xg, s, win, &mut col);
                        &col
                    };
                    let weight = Operand {
                        data: &ws[g * og * k..(g + 1) * og * k],
                        rs: k,
                        cs: 1,
                    };
                    let columns = Operand {
                        data: columns,
                        rs: p,
                        cs: 1,
                    };
                    gemm_slices(og, p, k, &weight, &columns, y, false);
                }
                if let Some(b) = &b {
                    for (plane, &bias) in y.chunks_exact_mut(p).zip(b) {
                        plane.iter_mut().for_each(|v| *v = *v + bias);
                    }
                }
            }
        });
    })
}

/// The gradient of `conv2d` with respect to its input, `[N, C, H, W]`, from the output's
/// gradient `g` `[N, O, OH, OW]` and the weight: for each sample and group, `wᵀ g` as
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
    let pointwise = s.is_pointwise(win);
    let plane = s.h * s.w;
    Array::build(&[s.n, s.c, s.h, s.w], |out| {
        for_sample_chunks(out, s.c * plane, chunk, |first, part| {
            let mut col = vec![T::zero(); if pointwise { 0 } else { k * p }];
            for (i, dx) in part.chunks_exact_mut(s.c * plane).enumerate() {
                let gn = &gs[(first + i) * s.o * p..][..s.o * p];
                for (grp, dx) in dx.chunks_exact_mut(cg * plane).enumerate() {
                    let weight_t = Operand {
                        data: &ws[grp * og * k..(grp + 1) * og * k],
                        rs: 1,
                        cs: k,
                    };
                    let grad = Operand {
                        data: &gn[grp * og * p..(grp + 1) * og * p],
                        rs: p,
                        cs: 1,
                    };
                    if pointwise {
                        gemm_slices(k, p, og, &weight_t, &grad, dx, false);
                    } else {
                        gemm_slices(k, p, og, &weight_t, &grad, &mut col, false);
                        dx.fill(T::zero());
                        col2im(&col, s, win, dx);
                    }
                }
            }
        });
    })
}

/// The gradient of `conv2d` with respect to its weight, `[O, C/g, kh, kw]`, from the
/// input `x` and the output's gradient `g`: `Σ_n g_n colsᵀ`, one partial sum per thread.
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
    let pointwise = s.is_pointwise(win);
    let numel = s.o * k;
    let partial = |first: usize, count: usize, dw: &mut [T]| {
        let mut col = vec![T::zero(); if pointwise { 0 } else { k * p }];
        dw.fill(T::zero());
        for sample in first..first + count {
            let xn = &xs[sample * s.c * s.h * s.w..][..s.c * s.h * s.w];
            let gn = &gs[sample * s.o * p..][..s.o * p];
            for (grp, dw) in dw.chunks_exact_mut(og * k).enumerate() {
                let xg = &xn[grp * cg * s.h * s.w..][..cg * s.h * s.w];
                let columns = if pointwise {
                    xg
                } else {
                    im2col(xg, s, win, &mut col);
                    &col
                };
                let grad = Operand {
                    data: &gn[grp * og * p..(grp + 1) * og * p],
                    rs: p,
                    cs: 1,
                };
                let columns_t = Operand {
                    data: columns,
                    rs: 1,
                    cs: p,
                };
                gemm_slices(og, k, p, &grad, &columns_t, dw, true);
            }
        }
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

/// The sizes of one pooling: `planes` (= N · C) input planes `h x w`, output `oh x ow`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolSizes {
    pub h: usize,
    pub w: usize,
    pub oh: usize,
    pub ow: usize,
}

/// The input rows (or columns) window `i` covers along spatial dim `d`, clipped to the
/// input: `(start, end)`, and the unclipped extent within the padded input.
fn window_range(win: &Window, d: usize, i: usize, size: usize) -> (usize, usize, usize) {
    let start = (i * win.stride[d]) as isize - win.padding[d] as isize;
    let end_padded = (start + win.kernel[d] as isize).min((size + win.padding[d]) as isize);
    let extent = (end_padded - start) as usize;
    (
        start.max(0) as usize,
        (end_padded.min(size as isize)).max(0) as usize,
        extent,
    )
}

/// For each output of a max-pool, the flat index (within its plane) of the window's
/// maximum: PyTorch's rule, where a larger value or any NaN takes the place, so ties go
/// to the first and a NaN wins.
fn max_positions<T: Float>(
    plane: &[T],
    s: &PoolSizes,
    win: &Window,
    mut visit: impl FnMut(usize, usize),
) {
    for oy in 0..s.oh {
        let (h0, h1, _) = window_range(win, 0, oy, s.h);
        for ox in 0..s.ow {
            let (w0, w1, _) = window_range(win, 1, ox, s.w);
            let mut best = h0 * s.w + w0;
            let mut max = T::neg_infinity();
            for y in h0..h1 {
                for x in w0..w1 {
                    let v = plane[y * s.w + x];
                    if v > max || v.is_nan() {
                        max = v;
                        best = y * s.w + x;
                    }
                }
            }
            visit(oy * s.ow + ox, best);
        }
    }
}

/// `max_pool2d` on `x` viewed as `[planes, h, w]`, to `[planes, oh, ow]` in `shape`.
pub(crate) fn max_pool2d<T: Float>(
    x: &Array<T>,
    s: &PoolSizes,
    win: &Window,
    shape: &[usize],
) -> Array<T> {
    let x = contiguous(x);
    let xs = dense(&x);
    Array::build(shape, |out| {
        for (plane, y) in xs
            .chunks_exact(s.h * s.w)
            .zip(out.chunks_exact_mut(s.oh * s.ow))
        {
            max_positions(plane, s, win, |o, at| y[o] = plane[at]);
        }
    })
}

/// `max_pool2d`'s input gradient: each output's gradient `g` added at its window's
/// maximum in `x` (shape `x`'s).
pub(crate) fn max_pool2d_grad<T: Float>(
    x: &Array<T>,
    g: &Array<T>,
    s: &PoolSizes,
    win: &Window,
) -> Array<T> {
    let (x, g) = (contiguous(x), contiguous(g));
    let (xs, gs) = (dense(&x), dense(&g));
    Array::build(x.shape(), |out| {
        out.fill(T::zero());
        for ((plane, gp), dx) in xs
            .chunks_exact(s.h * s.w)
            .zip(gs.chunks_exact(s.oh * s.ow))
            .zip(out.chunks_exact_mut(s.h * s.w))
        {
            max_positions(plane, s, win, |o, at| dx[at] = dx[at] + gp[o]);
        }
    })
}

/// The adjoint of [`max_pool2d_grad`] in `g`: `v` (shape `x`'s) read at each window's
/// maximum in `x`, giving the pooled shape `shape`.
pub(crate) fn max_pool2d_select<T: Float>(
    x: &Array<T>,
    v: &Array<T>,
    s: &PoolSizes,
    win: &Window,
    shape: &[usize],
) -> Array<T> {
    let (x, v) = (contiguous(x), contiguous(v));
    let (xs, vs) = (dense(&x), dense(&v));
    Array::build(shape, |out| {
        for ((plane, vp), y) in xs
            .chunks_exact(s.h * s.w)
            .zip(vs.chunks_exact(s.h * s.w))
            .zip(out.chunks_exact_mut(s.oh * s.ow))
        {
            max_positions(plane, s, win, |o, at| y[o] = vp[at]);
        }
    })
}

/// `avg_pool2d` (padding counted in the divisor, PyTorch's default), `[planes, h, w]` to
/// `shape`.
pub(crate) fn avg_pool2d<T: Float>(
    x: &Array<T>,
    s: &PoolSizes,
    win: &Window,
    shape: &[usize],
) -> Array<T> {
    let x = contiguous(x);
    let xs = dense(&x);
    Array::build(shape, |out| {
        for (plane, y) in xs
            .chunks_exact(s.h * s.w)
            .zip(out.chunks_exact_mut(s.oh * s.ow))
        {
            for oy in 0..s.oh {
                let (h0, h1, eh) = window_range(win, 0, oy, s.h);
                for ox in 0..s.ow {
                    let (w0, w1, ew) = window_range(win, 1, ox, s.w);
                    let mut sum = T::zero();
                    for row in plane[h0 * s.w..h1 * s.w].chunks_exact(s.w) {
                        for &v in &row[w0..w1] {
                            sum = sum + v;
                        }
                    }
                    y[oy * s.ow + ox] = sum / T::from(eh * ew).unwrap_or_else(T::nan);
                }
            }
        }
    })
}

/// `avg_pool2d`'s input gradient (the adjoint of [`avg_pool2d`]): each output's gradient,
/// divided as the forward divided, spread over its window. `shape` is the input's.
pub(crate) fn avg_pool2d_grad<T: Float>(
    g: &Array<T>,
    s: &PoolSizes,
    win: &Window,
    shape: &[usize],
) -> Array<T> {
    let g = contiguous(g);
    let gs = dense(&g);
    Array::build(shape, |out| {
        out.fill(T::zero());
        for (gp, dx) in gs
            .chunks_exact(s.oh * s.ow)
            .zip(out.chunks_exact_mut(s.h * s.w))
        {
            for oy in 0..s.oh {
                let (h0, h1, eh) = window_range(win, 0, oy, s.h);
                for ox in 0..s.ow {
                    let (w0, w1, ew) = window_range(win, 1, ox, s.w);
                    let share = gp[oy * s.ow + ox] / T::from(eh * ew).unwrap_or_else(T::nan);
                    for row in dx[h0 * s.w..h1 * s.w].chunks_exact_mut(s.w) {
                        for v in &mut row[w0..w1] {
                            *v = *v + share;
                        }
                    }
                }
            }
        }
    })
}
