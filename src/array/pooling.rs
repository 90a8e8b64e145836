//! Max and average pooling over the last two dims (`[N, C, H, W]` or `[C, H, W]`).
//!
//! Pooling walks each output's window; max-pooling's backward finds the window's maximum
//! again rather than keeping its index (a pass over the input is cheap next to the convs
//! around it, and it keeps the op's inputs plain arrays). Large inputs are split across
//! threads by planes.

use super::conv::{for_sample_chunks, Window};
use super::matmul::num_threads;
use super::select::{contiguous, dense};
use super::Array;
use crate::element::Float;

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

/// Each window's input rows (or columns) along spatial dim `d`, clipped to the input.
fn window_ranges(win: &Window, d: usize, outputs: usize, size: usize) -> Vec<(usize, usize)> {
    (0..outputs)
        .map(|i| {
            let (start, end, _) = window_range(win, d, i, size);
            (start, end)
        })
        .collect()
}

/// Where each window's maximum is: `best[o]` is the flat index (within the plane) of
/// output `o`'s. PyTorch's rule: a larger value or any NaN takes the place, scanning rows
/// then columns, so ties go to the first and a NaN wins.
struct MaxWindows {
    rows: Vec<(usize, usize)>,
    cols: Vec<(usize, usize)>,
    /// Kernel 2, stride 2, no padding (every CNN's pool): a fixed four-way comparison.
    two_by_two: bool,
}

impl MaxWindows {
    fn new(s: &PoolSizes, win: &Window) -> Self {
        MaxWindows {
            rows: window_ranges(win, 0, s.oh, s.h),
            cols: window_ranges(win, 1, s.ow, s.w),
            two_by_two: win.kernel == [2, 2] && win.stride == [2, 2] && win.padding == [0, 0],
        }
    }

    fn find<T: Float>(&self, plane: &[T], w: usize, best: &mut [usize]) {
        let ow = self.cols.len();
        if self.two_by_two {
            for (oy, out) in best.chunks_exact_mut(ow).enumerate() {
                let r0 = 2 * oy * w;
                let (top, bottom) = (&plane[r0..r0 + w], &plane[r0 + w..r0 + 2 * w]);
                let offsets = [0, 1, w, w + 1];
                for (ox, ((b, t), u)) in out
                    .iter_mut()
                    .zip(top.chunks_exact(2))
                    .zip(bottom.chunks_exact(2))
                    .enumerate()
                {
                    // Branch-free, as the comparisons are coin flips on real data: the
                    // first element equal to the maximum (ties go to the first), or, if
                    // any element is NaN, the last NaN, which is where PyTorch's scan
                    // (`v > max || isnan(v)`, from -inf) ends.
                    let v = [t[0], t[1], u[0], u[1]];
                    let nan = v.map(|x| x.is_nan());
                    let upper = if v[1] > v[0] { v[1] } else { v[0] };
                    let lower = if v[3] > v[2] { v[3] } else { v[2] };
                    let max = if lower > upper { lower } else { upper };
                    let eq = v.map(|x| x == max);
                    let first_max =
                        usize::from(!eq[0]) * (1 + usize::from(!eq[1]) * (1 + usize::from(!eq[2])));
                    let last_nan = 3 - usize::from(!nan[3])
                        * (1 + usize::from(!nan[2]) * (1 + usize::from(!nan[1])));
                    let any_nan = nan[0] | nan[1] | nan[2] | nan[3];
                    let k = if any_nan { last_nan } else { first_max };
                    *b = r0 + 2 * ox + offsets[k];
                }
            }
            return;
        }
        for (out, &(h0, h1)) in best.chunks_exact_mut(ow).zip(&self.rows) {
            for (b, &(w0, w1)) in out.iter_mut().zip(&self.cols) {
                let mut at = h0 * w + w0;
                let mut max = T::neg_infinity();
                for y in h0..h1 {
                    for (x, &v) in plane[y * w + w0..y * w + w1].iter().enumerate() {
                        if v > max || v.is_nan() {
                            max = v;
                            at = y * w + w0 + x;
                        }
                    }
                }
                *b = at;
            }
        }
    }
}

/// Calls `visit(k, plane, argmax positions)` for planes `first + k` of `xs`, `k` in
/// `0..count`.
fn for_each_max_plane<T: Float>(
    xs: &[T],
    s: &PoolSizes,
    win: &Window,
    (first, count): (usize, usize),
    mut visit: impl FnMut(usize, &[T], &[usize]),
) {
    let windows = MaxWindows::new(s, win);
    let mut best = vec![0usize; s.oh * s.ow];
    let plane_len = s.h * s.w;
    for k in 0..count {
        let plane = &xs[(first + k) * plane_len..(first + k + 1) * plane_len];
        windows.find(plane, s.w, &mut best);
        visit(k, plane, &best);
    }
}

/// Planes per thread for a pooling over `xs` (all of them below a size worth splitting).
fn plane_chunks(planes: usize, elements: usize) -> usize {
    let threads = num_threads();
    if threads < 2 || planes < 2 || elements < (1 << 16) {
        planes.max(1)
    } else {
        planes.div_ceil(threads.min(planes))
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
    let xs: &[T] = &xs;
    let p = s.oh * s.ow;
    Array::build(shape, |out| {
        let planes = out.len() / p.max(1);
        let chunk = plane_chunks(planes, xs.len());
        for_sample_chunks(out, p, chunk, |first, part| {
            let count = part.len() / p;
            for_each_max_plane(xs, s, win, (first, count), |k, plane, best| {
                for (y, &at) in part[k * p..(k + 1) * p].iter_mut().zip(best) {
                    *y = plane[at];
                }
            });
        });
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
    let (xs, gs): (&[T], &[T]) = (&xs, &gs);
    let (p, plane_len) = (s.oh * s.ow, s.h * s.w);
    Array::build(x.shape(), |out| {
        let planes = out.len() / plane_len.max(1);
        let chunk = plane_chunks(planes, xs.len());
        for_sample_chunks(out, plane_len, chunk, |first, part| {
            part.fill(T::zero());
            let count = part.len() / plane_len;
            for_each_max_plane(xs, s, win, (first, count), |k, _, best| {
                let dx = &mut part[k * plane_len..(k + 1) * plane_len];
                let grads = &gs[(first + k) * p..(first + k + 1) * p];
                for (&at, &g) in best.iter().zip(grads) {
                    dx[at] = dx[at] + g;
                }
            });
        });
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
        let (p, plane_len) = (s.oh * s.ow, s.h * s.w);
        let planes = xs.len() / plane_len.max(1);
        for_each_max_plane(&xs, s, win, (0, planes), |i, _, best| {
            let vp = &vs[i * plane_len..(i + 1) * plane_len];
            for (y, &at) in out[i * p..(i + 1) * p].iter_mut().zip(best) {
                *y = vp[at];
            }
        });
    })
}

/// Walks the windows of an average pool over one plane: `f(output index, the window's
/// flat input range of whole rows, its column range, the divisor)`. The divisor counts
/// padding (PyTorch's default), so the forward and its adjoint divide alike.
fn for_each_average(
    s: &PoolSizes,
    win: &Window,
    mut f: impl FnMut(usize, std::ops::Range<usize>, std::ops::Range<usize>, usize),
) {
    for oy in 0..s.oh {
        let (h0, h1, eh) = window_range(win, 0, oy, s.h);
        for ox in 0..s.ow {
            let (w0, w1, ew) = window_range(win, 1, ox, s.w);
            f(oy * s.ow + ox, h0 * s.w..h1 * s.w, w0..w1, eh * ew);
        }
    }
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
            for_each_average(s, win, |o, rows, cols, count| {
                let mut sum = T::zero();
                for row in plane[rows].chunks_exact(s.w) {
                    for &v in &row[cols.clone()] {
                        sum = sum + v;
                    }
                }
                y[o] = sum / T::from(count).unwrap_or_else(T::nan);
            });
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
            for_each_average(s, win, |o, rows, cols, count| {
                let share = gp[o] / T::from(count).unwrap_or_else(T::nan);
                for row in dx[rows].chunks_exact_mut(s.w) {
                    for v in &mut row[cols.clone()] {
                        *v = *v + share;
                    }
                }
            });
        }
    })
}
