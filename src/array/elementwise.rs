//! Elementwise kernels: unary maps, broadcasting binary ops, and in-place updates.
//!
//! Each kernel has a contiguous fast path (slice iterators the compiler vectorizes, no
//! index arithmetic, no bounds checks in the loop) and a strided fallback that walks rows.

use super::layout::{coalesce, for_each_row, row, Layout};
use super::matmul::num_threads;
use super::tiles::{
    for_each_tile, load_tile, map_transposed, tile_shape, wants_tiles, zip_transposed, Rows,
    Transposed, REGISTER_TILE, TILE,
};
use super::{vmath, Array};
use crate::element::{DType, Element, Float};
use crate::error::Result;
use crate::shape::{broadcast_shapes, numel};
use std::mem::MaybeUninit;

/// Calls `visit` with each row (last dim) of `a` in logical order, as a slice when the
/// row is dense and through a small buffer when it is strided.
pub(crate) fn gather_rows<T: Element>(a: &Array<T>, mut visit: impl FnMut(&[T])) {
    let layout = a.layout();
    let data = a.read();
    let (shape, [strides]) = coalesce(&layout.shape, [&layout.strides]);
    let (len, stride) = row(&shape, &strides);
    let mut buffer = Vec::new();
    for_each_row(&shape, [&strides], [layout.offset], |[o]| {
        if stride == 1 {
            visit(&data[o..o + len]);
        } else {
            buffer.clear();
            buffer.extend((0..len).map(|j| data[o + j * stride]));
            visit(&buffer);
        }
    });
}

/// `out[i] = f(a[i])` over two equally long slices, compiled for AVX2 where the CPU has
/// it: the loop then runs 8 f32 lanes wide instead of the baseline's 4 (SSE2), with the
/// same operations in the same order, so the same bits. (The closure is inlined into the
/// AVX2 copy; a closure that calls a math function keeps calling it per element.)
#[inline]
fn map_slice<A: Copy, B, F: Fn(A) -> B>(a: &[A], out: &mut [B], f: &F) {
    #[inline(always)]
    fn each<A: Copy, B, F: Fn(A) -> B>(a: &[A], out: &mut [B], f: &F) {
        for (o, &x) in out.iter_mut().zip(a) {
            *o = f(x);
        }
    }
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2")]
        unsafe fn avx2<A: Copy, B, F: Fn(A) -> B>(a: &[A], out: &mut [B], f: &F) {
            each(a, out, f)
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            return unsafe { avx2(a, out, f) };
        }
    }
    each(a, out, f)
}

/// `out[i] = f(a[i], b[i])`, as [`map_slice`].
#[inline]
fn zip_slice<T: Copy, B, F: Fn(T, T) -> B>(a: &[T], b: &[T], out: &mut [B], f: &F) {
    #[inline(always)]
    fn each<T: Copy, B, F: Fn(T, T) -> B>(a: &[T], b: &[T], out: &mut [B], f: &F) {
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
            *o = f(x, y);
        }
    }
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2")]
        unsafe fn avx2<T: Copy, B, F: Fn(T, T) -> B>(a: &[T], b: &[T], out: &mut [B], f: &F) {
            each(a, b, out, f)
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            return unsafe { avx2(a, b, out, f) };
        }
    }
    each(a, b, out, f)
}

/// `f` applied to every element; the result is contiguous.
pub(crate) fn map<T: Float>(a: &Array<T>, f: impl Fn(T) -> T + Sync) -> Array<T> {
    let mut out = MaybeUninit::uninit();
    map_into(a, f, &mut out);
    // SAFETY: `map_into` wrote the array.
    unsafe { out.assume_init() }
}

/// [`map`] with the result written to `dst` (an op's [`crate::ops::OpDef::forward_into`]).
pub(crate) fn map_into<T: Float>(
    a: &Array<T>,
    f: impl Fn(T) -> T + Sync,
    dst: &mut MaybeUninit<Array<T>>,
) {
    let layout = a.layout();
    let data = a.read();
    // SAFETY: both branches write every output element: the contiguous one element by
    // element, the strided one row by row, one output row per input row.
    unsafe {
        Array::build_uninit_into(dst, &layout.shape, |out| {
            if layout.is_contiguous() {
                let src = &data[layout.offset..layout.offset + out.len()];
                split_work(src, out, |src, out| {
                    map_slice(src, out, &|x| MaybeUninit::new(f(x)));
                });
            } else {
                let (shape, [strides]) = coalesce(&layout.shape, [&layout.strides]);
                let (len, stride) = row(&shape, &strides);
                if wants_tiles(&shape, &[stride]) {
                    // A transposed input: a tile at a time, read along its memory.
                    let nd = shape.len();
                    let (cols, steps) = (shape[nd - 1], (strides[nd - 2], strides[nd - 1]));
                    let data: &[T] = &data;
                    let tiles = tile_shape::<T>(steps);
                    for_each_tile(
                        &shape,
                        [&strides],
                        [layout.offset],
                        out,
                        tiles,
                        // The register path needs no buffer: none is made (or zeroed).
                        || (tiles != REGISTER_TILE).then(|| [T::zero(); TILE * TILE]),
                        |tile, band, j0, h, w, [o]| {
                            let Some(tile) = tile else {
                                // From registers (see `zip_transposed`).
                                let t = Transposed {
                                    data,
                                    offset: o,
                                    cs: steps.1,
                                };
                                let dst = Rows {
                                    data: band,
                                    offset: j0,
                                    pitch: cols,
                                };
                                return map_transposed(t, dst, (h, w), |x| MaybeUninit::new(f(x)));
                            };
                            load_tile(data, o, steps, (h, w), tile, w);
                            for i in 0..h {
                                let dst = &mut band[i * cols + j0..i * cols + j0 + w];
                                for (d, &x) in dst.iter_mut().zip(&tile[i * w..(i + 1) * w]) {
                                    d.write(f(x));
                                }
                            }
                        },
                    );
                    return;
                }
                let mut rows = out.chunks_exact_mut(len.max(1));
                for_each_row(&shape, [&strides], [layout.offset], |[o]| {
                    let dst = rows.next().expect("one output row per input row");
                    match stride {
                        // A broadcast row (a gradient expanded from a sum): one value, repeated.
                        0 => dst.fill(MaybeUninit::new(f(data[o]))),
                        1 => {
                            let len = dst.len();
                            for (d, &x) in dst.iter_mut().zip(&data[o..o + len]) {
                                d.write(f(x));
                            }
                        }
                        _ => {
                            for (j, d) in dst.iter_mut().enumerate() {
                                d.write(f(data[o + j * stride]));
                            }
                        }
                    }
                });
            }
        })
    }
}

/// Above this many elements an elementwise kernel splits its work across threads: below
/// it, handing a piece to rayon's pool costs more than computing it (benches/kernels.rs,
/// `threads` group).
pub(crate) const PARALLEL_ELEMENTS: usize = 1 << 17;

/// `kernel(src piece, dst piece)` over matching pieces of two equally long slices: one
/// piece when they are short or one thread is set, else one per thread, shared by this
/// thread and rayon's pool ([`super::fork::fork_join`]). An elementwise kernel gives the same bits whichever way the work is cut.
pub(crate) fn split_work<A: Sync, B: Send>(
    src: &[A],
    dst: &mut [B],
    kernel: impl Fn(&[A], &mut [B]) + Sync,
) {
    debug_assert_eq!(src.len(), dst.len());
    // The size first: a small op (the lecture's) never reads the thread setting.
    if src.len() < PARALLEL_ELEMENTS {
        return kernel(src, dst);
    }
    let threads = num_threads();
    if threads < 2 {
        return kernel(src, dst);
    }
    // Pieces of whole cache lines (16 f32), so no two threads write one line.
    let piece = src.len().div_ceil(threads).next_multiple_of(16);
    super::fork::fork_join(src.chunks(piece).zip(dst.chunks_mut(piece)), |(s, d)| {
        kernel(s, d)
    });
}

/// `block(first row, its rows of src, their outputs)` over blocks of rows of a contiguous
/// buffer of `width`-element rows and of `out` (`per_row` elements per row): one block, or
/// one per thread (this one and rayon's, [`super::fork::fork_join`]) when the work is
/// large. Each row is computed alike whatever the split, so the bits do not depend on the
/// thread count.
pub(crate) fn split_rows<S: Sync, O: Send>(
    src: &[S],
    width: usize,
    out: &mut [O],
    per_row: usize,
    block: impl Fn(usize, &[S], &mut [O]) + Sync,
) {
    let n = out.len() / per_row.max(1);
    if src.len() < PARALLEL_ELEMENTS || n < 2 || width == 0 {
        return block(0, src, out);
    }
    let threads = num_threads();
    if threads < 2 {
        return block(0, src, out);
    }
    let rows = n.div_ceil(threads);
    let pieces = src
        .chunks(rows * width)
        .zip(out.chunks_mut(rows * per_row))
        .enumerate();
    super::fork::fork_join(pieces, |(i, (s, o))| block(i * rows, s, o));
}

/// The `h` × `w` tile at `offset` of an operand with strides `(rs, cs)`, as rows: the
/// operand itself when it is read along its rows (`cs == 1`, row pitch `rs`), else a copy
/// in `tile` (row pitch `w`, [`load_tile`]). Returns the rows' buffer and pitch.
fn tile_rows<'a, T: Copy>(
    src: &'a [T],
    offset: usize,
    (rs, cs): (usize, usize),
    (h, w): (usize, usize),
    tile: &'a mut [T],
) -> (&'a [T], usize) {
    if cs == 1 && h > 0 {
        (&src[offset..offset + (h - 1) * rs + w], rs)
    } else {
        load_tile(src, offset, (rs, cs), (h, w), tile, w);
        (tile, w)
    }
}

/// Results of at least this many f32 (16 MiB) go to memory through non-temporal stores
/// ([`vmath::map_streaming`]): half the last-level cache of the machines measured, past
/// which the next op would find little of them there anyway.
const STREAM_ELEMENTS: usize = 1 << 22;

/// `f` applied to every element, through the vectorised f32 kernel `fast` when `T` is f32
/// and `a` is contiguous (`f`, the scalar form, serves the rest); the result is contiguous.
pub(crate) fn map_vector<T: Float, F: vmath::Fun>(
    a: &Array<T>,
    fast: F,
    f: impl Fn(T) -> T + Sync,
) -> Array<T> {
    let layout = a.layout();
    if T::DTYPE != DType::F32 || !layout.is_contiguous() {
        return map(a, f);
    }
    let data = a.read();
    // SAFETY: the kernel writes every output element (`vmath::map` writes each `dst[i]`,
    // and the pieces cover the slice). `T` is f32 (`Element` is sealed and `DTYPE` names
    // the primitive), so the casts change nothing but the type's name.
    unsafe {
        Array::build_uninit(&layout.shape, |out| {
            let src = &data[layout.offset..layout.offset + out.len()];
            let src = std::slice::from_raw_parts(src.as_ptr() as *const f32, src.len());
            let dst = std::slice::from_raw_parts_mut(
                out.as_mut_ptr() as *mut MaybeUninit<f32>,
                out.len(),
            );
            if out.len() >= STREAM_ELEMENTS {
                split_work(src, dst, |s, d| vmath::map_streaming(fast, s, d));
            } else {
                split_work(src, dst, |s, d| vmath::map(fast, s, d));
            }
        })
    }
}

/// True if `small` is contiguous, not empty, and its shape (leading 1s aside) is the tail of
/// `shape`: broadcasting it to `shape` repeats its buffer end to end (a bias row).
pub(crate) fn repeats_as_suffix(small: &Layout, shape: &[usize]) -> bool {
    let dims = &small.shape[small.shape.iter().take_while(|&&d| d == 1).count()..];
    small.is_contiguous() && small.numel() > 0 && shape.ends_with(dims)
}

/// `f(a, b)` elementwise after broadcasting `a` and `b` to a common shape.
pub(crate) fn zip_map<T: Float>(
    op: &'static str,
    a: &Array<T>,
    b: &Array<T>,
    f: impl Fn(T, T) -> T + Sync,
) -> Result<Array<T>> {
    // SAFETY: `zip_map_into` writes the array whenever it returns `Ok`.
    unsafe { crate::ops::returned(|out| zip_map_into(op, a, b, f, out)) }
}

/// [`zip_map`] with the result written to `dst` (left as it was on an error).
pub(crate) fn zip_map_into<T: Float>(
    op: &'static str,
    a: &Array<T>,
    b: &Array<T>,
    f: impl Fn(T, T) -> T + Sync,
    dst: &mut MaybeUninit<Array<T>>,
) -> Result<()> {
    // Operands of one shape (the common case) need no broadcast shape built and returned.
    let broadcast;
    let shape = if crate::shape::same(a.shape(), b.shape()) {
        a.shape()
    } else {
        broadcast = broadcast_shapes(op, a.shape(), b.shape())?;
        &broadcast[..]
    };
    let n = numel(shape);
    let (la, lb) = (a.layout(), b.layout());
    a.read_with(b, |da, db| {
        zip_map_slices(shape, n, (la, da), (lb, db), f, dst)
    });
    Ok(())
}

fn zip_map_slices<T: Float>(
    shape: &[usize],
    n: usize,
    (la, da): (&Layout, &[T]),
    (lb, db): (&Layout, &[T]),
    f: impl Fn(T, T) -> T + Sync,
    dst: &mut MaybeUninit<Array<T>>,
) {
    let a_dense = la.is_contiguous() && crate::shape::same(&la.shape, shape);
    let b_dense = lb.is_contiguous() && crate::shape::same(&lb.shape, shape);
    Array::build_into(dst, shape, |out| {
        if a_dense && b_dense {
            // Large ones split across threads (each piece alike: the same bits).
            let (sa, sb) = (&da[la.offset..la.offset + n], &db[lb.offset..lb.offset + n]);
            split_rows(sa, 1, out, 1, |first, sa, out| {
                zip_slice(sa, &sb[first..first + sa.len()], out, &f);
            });
        } else if a_dense && lb.numel() == 1 {
            let y = db[lb.offset];
            split_work(&da[la.offset..la.offset + n], out, |sa, out| {
                map_slice(sa, out, &|x| f(x, y));
            });
        } else if b_dense && la.numel() == 1 {
            let x = da[la.offset];
            split_work(&db[lb.offset..lb.offset + n], out, |sb, out| {
                map_slice(sb, out, &|y| f(x, y));
            });
        } else if a_dense && repeats_as_suffix(lb, shape) {
            // `x + bias`: b's values repeat along the leading dims.
            let sb = &db[lb.offset..lb.offset + lb.numel()];
            let sa = &da[la.offset..la.offset + n];
            for (o, x) in out
                .chunks_exact_mut(sb.len())
                .zip(sa.chunks_exact(sb.len()))
            {
                for ((o, &x), &y) in o.iter_mut().zip(x).zip(sb) {
                    *o = f(x, y);
                }
            }
        } else if b_dense && repeats_as_suffix(la, shape) {
            let sa = &da[la.offset..la.offset + la.numel()];
            let sb = &db[lb.offset..lb.offset + n];
            for (o, y) in out
                .chunks_exact_mut(sa.len())
                .zip(sb.chunks_exact(sa.len()))
            {
                for ((o, &x), &y) in o.iter_mut().zip(sa).zip(y) {
                    *o = f(x, y);
                }
            }
        } else {
            let (ba, bb) = (la.broadcast_to(shape), lb.broadcast_to(shape));
            let (walk, [strides_a, strides_b]) = coalesce(shape, [&ba.strides, &bb.strides]);
            let (len, sa) = row(&walk, &strides_a);
            let sb = row(&walk, &strides_b).1;
            if wants_tiles(&walk, &[sa, sb]) {
                // A transposed operand: both are read a tile at a time into small
                // row-major buffers (each along its memory), then zipped row by row.
                let nd = walk.len();
                let cols = walk[nd - 1];
                let (ra, rb) = (
                    (strides_a[nd - 2], strides_a[nd - 1]),
                    (strides_b[nd - 2], strides_b[nd - 1]),
                );
                let start = [ba.offset, bb.offset];
                // One operand transposed, the other read along its rows: the transposed
                // one from registers, in whole bands of 8 rows (see `zip_transposed`);
                // otherwise an operand read along its rows is used where it lies and only
                // the other one is copied, a tile at a time.
                let a_registers = rb.1 == 1 && tile_shape::<T>(ra) == REGISTER_TILE;
                let b_registers = ra.1 == 1 && tile_shape::<T>(rb) == REGISTER_TILE;
                let tiles = if a_registers || b_registers {
                    REGISTER_TILE
                } else {
                    (TILE, TILE)
                };
                for_each_tile(
                    &walk,
                    [&strides_a, &strides_b],
                    start,
                    out,
                    tiles,
                    // The register path needs no buffers: none are made (or zeroed).
                    || {
                        (tiles != REGISTER_TILE)
                            .then(|| ([T::zero(); TILE * TILE], [T::zero(); TILE * TILE]))
                    },
                    |buffers, band, j0, h, w, [oa, ob]| {
                        let f = &f;
                        let Some((ta, tb)) = buffers else {
                            // The register path: the transposed operand and the one read
                            // along its rows.
                            let ((td, to, cs), (rd, ro, pitch)) = if a_registers {
                                ((da, oa, ra.1), (db, ob, rb.0))
                            } else {
                                ((db, ob, rb.1), (da, oa, ra.0))
                            };
                            let t = Transposed {
                                data: td,
                                offset: to,
                                cs,
                            };
                            let r = Rows {
                                data: rd,
                                offset: ro,
                                pitch,
                            };
                            let dst = Rows {
                                data: band,
                                offset: j0,
                                pitch: cols,
                            };
                            return if a_registers {
                                zip_transposed(t, r, dst, (h, w), f)
                            } else {
                                zip_transposed(t, r, dst, (h, w), |y, x| f(x, y))
                            };
                        };
                        let (xa, pa) = tile_rows(da, oa, ra, (h, w), ta);
                        let (xb, pb) = tile_rows(db, ob, rb, (h, w), tb);
                        for i in 0..h {
                            let dst = &mut band[i * cols + j0..i * cols + j0 + w];
                            let (x, y) = (&xa[i * pa..i * pa + w], &xb[i * pb..i * pb + w]);
                            for ((o, &x), &y) in dst.iter_mut().zip(x).zip(y) {
                                *o = f(x, y);
                            }
                        }
                    },
                );
                return;
            }
            let mut rows = out.chunks_exact_mut(len.max(1));
            for_each_row(
                &walk,
                [&strides_a, &strides_b],
                [ba.offset, bb.offset],
                |[oa, ob]| {
                    let dst = rows.next().expect("one output row per row");
                    match (sa, sb) {
                        (1, 1) => {
                            for ((o, &x), &y) in
                                dst.iter_mut().zip(&da[oa..oa + len]).zip(&db[ob..ob + len])
                            {
                                *o = f(x, y);
                            }
                        }
                        (1, 0) => {
                            let y = db[ob];
                            for (o, &x) in dst.iter_mut().zip(&da[oa..oa + len]) {
                                *o = f(x, y);
                            }
                        }
                        (0, 1) => {
                            let x = da[oa];
                            for (o, &y) in dst.iter_mut().zip(&db[ob..ob + len]) {
                                *o = f(x, y);
                            }
                        }
                        _ => {
                            for (j, o) in dst.iter_mut().enumerate() {
                                *o = f(da[oa + j * sa], db[ob + j * sb]);
                            }
                        }
                    }
                },
            );
        }
    })
}

/// `dst[i] = f(dst[i], src[i])` through `dst`'s layout, with `src` broadcast to `dst`'s
/// shape (the caller checks that it broadcasts and that `dst` has no overlapping elements).
pub(crate) fn apply_inplace<T: Float>(dst: &Array<T>, src: &Array<T>, f: impl Fn(T, T) -> T) {
    // Reading and writing one buffer at once would alias: read a private copy instead.
    let copy;
    let src = if dst.same_storage(src) {
        copy = src.private_copy();
        &copy
    } else {
        src
    };
    let (ld, lsrc) = (dst.layout(), src.layout());
    {
        let (mut guard_d, guard_s) = dst.write_reading(src);
        let (dd, ds): (&mut [T], &[T]) = (&mut guard_d, &guard_s);
        let n = ld.numel();
        if ld.is_contiguous() && lsrc.is_contiguous() && crate::shape::same(&lsrc.shape, &ld.shape)
        {
            let rd = &mut dd[ld.offset..ld.offset + n];
            for (x, &y) in rd.iter_mut().zip(&ds[lsrc.offset..lsrc.offset + n]) {
                *x = f(*x, y);
            }
        } else if ld.is_contiguous() && repeats_as_suffix(lsrc, &ld.shape) {
            // A row (a bias) applied to every row of `dst` (or a single value to each).
            let row = &ds[lsrc.offset..lsrc.offset + src.numel()];
            for chunk in dd[ld.offset..ld.offset + n].chunks_exact_mut(row.len()) {
                for (x, &y) in chunk.iter_mut().zip(row) {
                    *x = f(*x, y);
                }
            }
        } else {
            let ls = lsrc.broadcast_to(&ld.shape);
            let (len, sd) = row(&ld.shape, &ld.strides);
            let ss = row(&ld.shape, &ls.strides).1;
            for_each_row(
                &ld.shape,
                [&ld.strides, &ls.strides],
                [ld.offset, ls.offset],
                |[od, os]| {
                    for j in 0..len {
                        let x = &mut dd[od + j * sd];
                        *x = f(*x, ds[os + j * ss]);
                    }
                },
            );
        }
        dst.bump_version(&guard_d);
    }
}

/// `dst[i] = f(dst[i])` through `dst`'s layout.
pub(crate) fn apply_inplace_scalar<T: Element>(dst: &Array<T>, f: impl Fn(T) -> T) {
    let ld = dst.layout().clone();
    {
        let mut guard = dst.write();
        let data: &mut [T] = &mut guard;
        if ld.is_contiguous() {
            for x in &mut data[ld.offset..ld.offset + ld.numel()] {
                *x = f(*x);
            }
        } else {
            let (len, sd) = row(&ld.shape, &ld.strides);
            for_each_row(&ld.shape, [&ld.strides], [ld.offset], |[od]| {
                for j in 0..len {
                    let x = &mut data[od + j * sd];
                    *x = f(*x);
                }
            });
        }
        dst.bump_version(&guard);
    }
}
