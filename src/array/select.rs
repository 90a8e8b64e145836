//! Kernels for comparisons, selects, indexing, joining, sorting and scans.
//!
//! Most work on the row-major contents of their inputs (the buffer itself when it is
//! contiguous, a copy otherwise) split as `[outer, len, inner]` around the dim they act on:
//! lane `(o, i)` of that dim is the elements `o * len * inner + k * inner + i`, `k < len`.

use super::layout::{for_each_row, row};
use super::Array;
use crate::element::{DType, Element, Float};
use crate::error::{Error, Result};
use crate::shape::{broadcast_shapes, numel, Shape};
use std::sync::RwLockReadGuard;

/// (outer, len, inner) of a row-major `shape` around `dim`.
pub(crate) fn lanes(shape: &[usize], dim: usize) -> (usize, usize, usize) {
    (numel(&shape[..dim]), shape[dim], numel(&shape[dim + 1..]))
}

/// A read-locked, row-major view of an array's contents.
pub(crate) struct Dense<'a, T: Element> {
    guard: RwLockReadGuard<'a, Vec<T>>,
    start: usize,
    len: usize,
}

impl<T: Element> std::ops::Deref for Dense<'_, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.guard[self.start..self.start + self.len]
    }
}

/// `a` if it is contiguous, else a contiguous copy: hold it while reading it with [`dense`].
pub(crate) fn contiguous<T: Element>(a: &Array<T>) -> Array<T> {
    a.contiguous()
}

/// The contents of a contiguous array, read-locked.
pub(crate) fn dense<T: Element>(c: &Array<T>) -> Dense<'_, T> {
    debug_assert!(c.is_contiguous());
    Dense {
        guard: c.read(),
        start: c.layout().offset,
        len: c.numel(),
    }
}

/// Reads two contiguous arrays of any element types together, taking the two locks in the
/// crate's global order (see `Array::read_with`); one storage shared by both is copied.
pub(crate) fn dense2<A: Element, B: Element, R>(
    a: &Array<A>,
    b: &Array<B>,
    f: impl FnOnce(&[A], &[B]) -> R,
) -> R {
    let (ka, kb) = (a.lock_order(), b.lock_order());
    if ka == kb {
        let b = b.private_copy();
        return f(&dense(a), &dense(&b));
    }
    if ka < kb {
        let da = dense(a);
        f(&da, &dense(b))
    } else {
        let db = dense(b);
        f(&dense(a), &db)
    }
}

/// `f` of every element, into an array of another element type (a comparison, a test).
pub(crate) fn map_to<T: Element, U: Element>(a: &Array<T>, f: impl Fn(T) -> U) -> Array<U> {
    let c = contiguous(a);
    let src = dense(&c);
    Array::build(a.shape(), |out| {
        for (o, &x) in out.iter_mut().zip(src.iter()) {
            *o = f(x);
        }
    })
}

/// `f(a, b)` elementwise after broadcasting, into an array of element type `U`.
pub(crate) fn zip_to<T: Element, U: Element>(
    op: &'static str,
    a: &Array<T>,
    b: &Array<T>,
    f: impl Fn(T, T) -> U,
) -> Result<Array<U>> {
    let shape = broadcast_shapes(op, a.shape(), b.shape())?;
    let (la, lb) = (
        a.layout().broadcast_to(&shape),
        b.layout().broadcast_to(&shape),
    );
    Ok(a.read_with(b, |da, db| {
        Array::build(&shape, |out| {
            if la.is_contiguous() && lb.is_contiguous() {
                let n = out.len();
                let (sa, sb) = (&da[la.offset..la.offset + n], &db[lb.offset..lb.offset + n]);
                for ((o, &x), &y) in out.iter_mut().zip(sa).zip(sb) {
                    *o = f(x, y);
                }
                return;
            }
            let (len, sa) = row(&shape, &la.strides);
            let sb = row(&shape, &lb.strides).1;
            let mut rows = out.chunks_exact_mut(len.max(1));
            for_each_row(
                &shape,
                [&la.strides, &lb.strides],
                [la.offset, lb.offset],
                |[oa, ob]| {
                    let dst = rows.next().expect("one output row per row");
                    for (j, o) in dst.iter_mut().enumerate() {
                        *o = f(da[oa + j * sa], db[ob + j * sb]);
                    }
                },
            );
        })
    }))
}

/// `f(c, a, b)` elementwise after broadcasting all three (`torch.where`'s shape rule).
/// `c` may have another element type (a `bool` mask).
pub(crate) fn select3<C: Element, T: Element>(
    op: &'static str,
    c: &Array<C>,
    a: &Array<T>,
    b: &Array<T>,
    f: impl Fn(C, T, T) -> T,
) -> Result<Array<T>> {
    let shape = broadcast_shapes(op, a.shape(), b.shape())?;
    let shape = broadcast_shapes(op, c.shape(), &shape).map_err(|_| {
        Error::shape(
            op,
            format!(
                "the mask's shape {:?} does not broadcast with {:?} and {:?}",
                c.shape(),
                a.shape(),
                b.shape()
            ),
        )
    })?;
    // Dense operands of the result's shape are read in place; the others are copied
    // broadcast (a scalar `value`, a bias row): simple, and the common case is the first.
    let fit = |l: &super::Layout| l.is_contiguous() && l.shape.as_slice() == shape.as_slice();
    let expand = |x: &Array<T>| {
        if fit(x.layout()) {
            x.clone()
        } else {
            x.with_layout(x.layout().broadcast_to(&shape))
                .private_copy()
        }
    };
    let (a, b) = (expand(a), expand(b));
    let c = if fit(c.layout()) {
        c.clone()
    } else {
        c.with_layout(c.layout().broadcast_to(&shape))
            .private_copy()
    };
    // The mask is copied out (a byte per element) so only two locks are held at once.
    let mask = c.to_vec();
    let (ca, cb) = (contiguous(&a), contiguous(&b));
    Ok(dense2(&ca, &cb, |da, db| {
        Array::build(&shape, |out| {
            for (((o, &m), &x), &y) in out.iter_mut().zip(&mask).zip(da).zip(db) {
                *o = f(m, x, y);
            }
        })
    }))
}

/// Checks every index against `size` (the length of the indexed dim), naming `op`.
pub(crate) fn check_indices(
    op: &'static str,
    indices: &[i64],
    size: usize,
    dim: usize,
) -> Result<()> {
    match indices.iter().find(|&&i| i < 0 || i as u64 >= size as u64) {
        Some(&bad) => Err(Error::index(
            op,
            format!("index {bad} is out of range for dim {dim} of size {size}"),
        )),
        None => Ok(()),
    }
}

/// `x` at `indices` along `dim` (checked): `out[o, j, i] = x[o, indices[j], i]`.
pub(crate) fn index_select<T: Element>(x: &Array<T>, dim: usize, indices: &[i64]) -> Array<T> {
    let (outer, len, inner) = lanes(x.shape(), dim);
    let mut shape = Shape::from_slice(x.shape());
    shape[dim] = indices.len();
    let c = contiguous(x);
    let src = dense(&c);
    Array::build(&shape, |out| {
        let mut blocks = out.chunks_exact_mut(inner.max(1));
        for o in 0..outer {
            for &k in indices {
                let start = (o * len + k as usize) * inner;
                if let Some(dst) = blocks.next() {
                    dst.copy_from_slice(&src[start..start + inner]);
                }
            }
        }
    })
}

/// `index_select`'s adjoint: zeros with `size` along `dim`, and `g[o, j, i]` added at
/// `[o, indices[j], i]` (repeated indices add up).
pub(crate) fn index_add<T: Float>(
    g: &Array<T>,
    dim: usize,
    indices: &[i64],
    size: usize,
) -> Array<T> {
    let (outer, n, inner) = lanes(g.shape(), dim);
    let mut shape = Shape::from_slice(g.shape());
    shape[dim] = size;
    let c = contiguous(g);
    let src = dense(&c);
    Array::build(&shape, |out| {
        out.fill(T::zero());
        for o in 0..outer {
            for (j, &k) in indices.iter().enumerate().take(n) {
                let from = (o * n + j) * inner;
                let to = (o * size + k as usize) * inner;
                for (d, &s) in out[to..to + inner].iter_mut().zip(&src[from..from + inner]) {
                    *d = *d + s;
                }
            }
        }
    })
}

/// Row-major strides of `shape`.
fn strides_of(shape: &[usize]) -> Shape {
    crate::shape::contiguous_strides(shape)
}

/// Visits every position of `index_shape` in row-major order with the offset, in an array
/// of row-major `shape`, of the same coordinates with the one along `dim` left out (0).
fn for_each_position(
    index_shape: &[usize],
    shape: &[usize],
    dim: usize,
    mut visit: impl FnMut(usize, usize),
) {
    let strides = strides_of(shape);
    let mut along: Shape = strides.clone();
    along[dim] = 0;
    let mut at = 0;
    if index_shape.is_empty() {
        visit(0, 0);
        return;
    }
    let (len, stride) = row(index_shape, &along);
    for_each_row(index_shape, [&along], [0], |[base]| {
        for j in 0..len {
            visit(at, base + j * stride);
            at += 1;
        }
    });
}

/// Checks `gather`'s and `scatter_add`'s shape rule: `index` has the dims of `x`, and is no
/// larger than `x` along every dim but `dim` (than `src` along every dim, for scatter).
pub(crate) fn check_gather_shapes(
    op: &'static str,
    x: &[usize],
    index: &[usize],
    dim: usize,
    src: Option<&[usize]>,
) -> Result<()> {
    let fits = index.len() == x.len()
        && index
            .iter()
            .zip(x)
            .enumerate()
            .all(|(d, (&i, &s))| d == dim || i <= s)
        && src.is_none_or(|src| {
            src.len() == index.len() && index.iter().zip(src).all(|(&i, &s)| i <= s)
        });
    if fits {
        Ok(())
    } else {
        let src = src.map(|s| format!(" and src {s:?}")).unwrap_or_default();
        Err(Error::shape(
            op,
            format!(
                "index of shape {index:?} does not fit input {x:?}{src} along dim {dim} (it needs \
                 their number of dims and no larger size in the other dims)"
            ),
        ))
    }
}

/// `out[p] = x[p with its dim coordinate replaced by index[p]]`, `out` of the index's shape.
/// The caller checks shapes and indices.
pub(crate) fn gather<T: Element>(
    op: &'static str,
    x: &Array<T>,
    dim: usize,
    index: &[i64],
    index_shape: &[usize],
) -> Result<Array<T>> {
    let stride = strides_of(x.shape())[dim];
    let c = contiguous(x);
    let src = dense(&c);
    let same_outside = index_shape
        .iter()
        .zip(x.shape())
        .enumerate()
        .all(|(d, (i, s))| d == dim || i == s);
    let (outer, len, inner) = lanes(x.shape(), dim);
    if !(same_outside && inner == 1) {
        check_indices(op, index, len, dim)?;
    }
    let mut bad = None;
    let out = Array::build(index_shape, |out| {
        if same_outside && inner == 1 {
            // The common case (`sort`, a per-row pick along the last dim): one load per
            // element from its row, the index checked as it is read (no separate pass).
            let n = index_shape[dim];
            for ((dst, idx), lane) in out
                .chunks_exact_mut(n.max(1))
                .zip(index.chunks_exact(n.max(1)))
                .zip(src.chunks_exact(len.max(1)))
                .take(outer)
            {
                for (o, &k) in dst.iter_mut().zip(idx) {
                    match usize::try_from(k).ok().and_then(|k| lane.get(k)) {
                        Some(&v) => *o = v,
                        None => {
                            bad = Some(k);
                            return;
                        }
                    }
                }
            }
            return;
        }
        if same_outside {
            let n = index_shape[dim];
            for o in 0..outer {
                for j in 0..n {
                    let at = (o * n + j) * inner;
                    for i in 0..inner {
                        out[at + i] = src[(o * len + index[at + i] as usize) * inner + i];
                    }
                }
            }
            return;
        }
        for_each_position(index_shape, x.shape(), dim, |p, base| {
            out[p] = src[base + index[p] as usize * stride];
        });
    });
    match bad {
        Some(k) => Err(Error::index(
            op,
            format!("index {k} is out of range for dim {dim} of size {len}"),
        )),
        None => Ok(out),
    }
}

/// `gather`'s adjoint: zeros of `shape`, and `src[p]` (read at the index's coordinates)
/// added at `p` with its dim coordinate replaced by `index[p]`.
pub(crate) fn scatter_add<T: Float>(
    src: &Array<T>,
    dim: usize,
    index: &[i64],
    index_shape: &[usize],
    shape: &[usize],
) -> Array<T> {
    let stride = strides_of(shape)[dim];
    let c = contiguous(src);
    let values = dense(&c);
    let src_shape = src.shape().to_vec();
    let src_strides = strides_of(&src_shape);
    // Where position p of the index sits in `src` (whose dims may be larger).
    let same = src_shape == index_shape;
    let mut src_at: Vec<usize> = Vec::new();
    if !same {
        src_at.reserve(index.len());
        let idx_strides = strides_of(index_shape);
        for p in 0..index.len() {
            let mut rest = p;
            let mut off = 0;
            for d in 0..index_shape.len() {
                let coord = rest / idx_strides[d];
                rest %= idx_strides[d];
                off += coord * src_strides[d];
            }
            src_at.push(off);
        }
    }
    Array::build(shape, |out| {
        out.fill(T::zero());
        for_each_position(index_shape, shape, dim, |p, base| {
            let from = if same { p } else { src_at[p] };
            let slot = &mut out[base + index[p] as usize * stride];
            *slot = *slot + values[from];
        });
    })
}

/// The arrays joined along `dim` (the caller checks that the other dims agree).
pub(crate) fn cat<T: Element>(parts: &[&Array<T>], dim: usize, shape: &[usize]) -> Array<T> {
    let outer = numel(&shape[..dim]);
    let inner = numel(&shape[dim + 1..]);
    let copies: Vec<Array<T>> = parts.iter().map(|p| contiguous(p)).collect();
    Array::build(shape, |out| {
        let mut at = 0;
        for o in 0..outer {
            for part in &copies {
                let block = part.shape()[dim] * inner;
                let src = dense(part);
                out[at..at + block].copy_from_slice(&src[o * block..(o + 1) * block]);
                at += block;
            }
        }
    })
}

/// A key whose unsigned order is the total order PyTorch sorts floats in: -inf < ... <
/// -0 = 0 < ... < inf < NaN (every NaN alike).
fn sort_key_f64(x: f64) -> u64 {
    if x.is_nan() {
        return u64::MAX;
    }
    let x = if x == 0.0 { 0.0 } else { x };
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

fn sort_key_f32(x: f32) -> u32 {
    if x.is_nan() {
        return u32::MAX;
    }
    let x = if x == 0.0 { 0.0 } else { x };
    let bits = x.to_bits();
    if bits >> 31 == 1 {
        !bits
    } else {
        bits | (1 << 31)
    }
}

/// The permutation that sorts each lane along `dim`, stable (equal values keep their
/// order), NaN last (first if `descending`), as `torch.sort(stable=True)`.
pub(crate) fn argsort<T: Float>(x: &Array<T>, dim: usize, descending: bool) -> Array<i64> {
    let (outer, len, inner) = lanes(x.shape(), dim);
    let c = contiguous(x);
    let src = dense(&c);
    Array::build(x.shape(), |out| {
        let mut keys32: Vec<u64> = Vec::with_capacity(len);
        let mut keys64: Vec<(u64, u32)> = Vec::new();
        for o in 0..outer {
            for i in 0..inner {
                let at = |k: usize| (o * len + k) * inner + i;
                if T::DTYPE == DType::F32 && len <= u32::MAX as usize {
                    // The key in the high half and the position in the low half: one u64
                    // sort, and equal keys stay in position order (stable).
                    keys32.clear();
                    keys32.extend((0..len).map(|k| {
                        let key = sort_key_f32(src[at(k)].to_f32().unwrap_or(f32::NAN));
                        let key = if descending { !key } else { key };
                        (u64::from(key) << 32) | k as u64
                    }));
                    keys32.sort_unstable();
                    for (k, key) in keys32.iter().enumerate() {
                        out[at(k)] = (key & 0xffff_ffff) as i64;
                    }
                } else {
                    keys64.clear();
                    keys64.extend((0..len).map(|k| {
                        let key = sort_key_f64(src[at(k)].to_f64().unwrap_or(f64::NAN));
                        (if descending { !key } else { key }, k as u32)
                    }));
                    keys64.sort_unstable();
                    for (k, &(_, j)) in keys64.iter().enumerate() {
                        out[at(k)] = i64::from(j);
                    }
                }
            }
        }
    })
}

/// Cumulative sum along `dim` (from the end if `reverse`), accumulated in f64 as PyTorch
/// does on the CPU (`acc_type<float>` is `double`), so f32 results match it to the bit.
pub(crate) fn cumsum<T: Float>(x: &Array<T>, dim: usize, reverse: bool) -> Array<T> {
    let (outer, len, inner) = lanes(x.shape(), dim);
    let c = contiguous(x);
    let src = dense(&c);
    Array::build(x.shape(), |out| {
        if inner == 1 && !reverse && len > 0 {
            // Eight lanes at a time: eight independent running sums keep the adder busy
            // (one running sum is a chain of dependent additions).
            let mut out_lanes = out.chunks_exact_mut(len * 8);
            let mut src_lanes = src.chunks_exact(len * 8);
            for (dst, block) in (&mut out_lanes).zip(&mut src_lanes) {
                let mut acc = [0.0f64; 8];
                let (block, dst) = (&block[..8 * len], &mut dst[..8 * len]);
                for k in 0..len {
                    for (l, a) in acc.iter_mut().enumerate() {
                        *a += to_f64(block[l * len + k]);
                        dst[l * len + k] = from_f64(*a);
                    }
                }
            }
            for (dst, lane) in out_lanes
                .into_remainder()
                .chunks_exact_mut(len)
                .zip(src_lanes.remainder().chunks_exact(len))
            {
                let mut acc = 0.0f64;
                for (d, &s) in dst.iter_mut().zip(lane) {
                    acc += to_f64(s);
                    *d = from_f64(acc);
                }
            }
            return;
        }
        if inner == 1 {
            for (dst, lane) in out
                .chunks_exact_mut(len.max(1))
                .zip(src.chunks_exact(len.max(1)))
            {
                let mut acc = 0.0f64;
                if reverse {
                    for (d, &s) in dst.iter_mut().zip(lane).rev() {
                        acc += s.to_f64().unwrap_or(f64::NAN);
                        *d = T::from(acc).unwrap_or_else(T::nan);
                    }
                } else {
                    for (d, &s) in dst.iter_mut().zip(lane) {
                        acc += s.to_f64().unwrap_or(f64::NAN);
                        *d = T::from(acc).unwrap_or_else(T::nan);
                    }
                }
            }
            return;
        }
        // Along an outer dim: a row of running sums, advanced one row at a time.
        let mut acc = vec![0.0f64; inner];
        for o in 0..outer {
            acc.fill(0.0);
            for step in 0..len {
                let k = if reverse { len - 1 - step } else { step };
                let at = (o * len + k) * inner;
                for ((a, d), &s) in acc
                    .iter_mut()
                    .zip(&mut out[at..at + inner])
                    .zip(&src[at..at + inner])
                {
                    *a += s.to_f64().unwrap_or(f64::NAN);
                    *d = T::from(*a).unwrap_or_else(T::nan);
                }
            }
        }
    })
}

/// `x` as f64 (exact for f32 and f64).
#[inline(always)]
fn to_f64<T: Float>(x: T) -> f64 {
    x.to_f64().unwrap_or(f64::NAN)
}

/// `x` rounded to `T` once, without num-traits' range check (an f64 beyond f32's range
/// rounds to infinity, as PyTorch's cast does).
#[inline(always)]
fn from_f64<T: Float>(x: f64) -> T {
    if T::DTYPE == DType::F32 {
        T::from(x as f32).unwrap_or_else(T::nan)
    } else {
        T::from(x).unwrap_or_else(T::nan)
    }
}

/// Calls `f(lane, out_lane)` on each lane along `dim` (gathered into a buffer) with the
/// matching lane of a result of the same shape.
fn map_lanes<T: Float>(x: &Array<T>, dim: usize, mut f: impl FnMut(&[T], &mut [T])) -> Array<T> {
    let (outer, len, inner) = lanes(x.shape(), dim);
    let c = contiguous(x);
    let src = dense(&c);
    Array::build(x.shape(), |out| {
        let mut lane = vec![T::zero(); len];
        let mut result = vec![T::zero(); len];
        for o in 0..outer {
            for i in 0..inner {
                for (k, l) in lane.iter_mut().enumerate() {
                    *l = src[(o * len + k) * inner + i];
                }
                f(&lane, &mut result);
                for (k, &r) in result.iter().enumerate() {
                    out[(o * len + k) * inner + i] = r;
                }
            }
        }
    })
}

/// Cumulative product along `dim`, accumulated in f64 like `cumsum`.
pub(crate) fn cumprod<T: Float>(x: &Array<T>, dim: usize) -> Array<T> {
    map_lanes(x, dim, |lane, out| {
        let mut acc = 1.0f64;
        for (o, &v) in out.iter_mut().zip(lane) {
            acc *= v.to_f64().unwrap_or(f64::NAN);
            *o = T::from(acc).unwrap_or_else(T::nan);
        }
    })
}

/// `cumprod`'s gradient, exact when the input has zeros: with `y = cumprod(x)`,
/// `dx_i = (x_0 ⋯ x_{i-1}) · s_i` where `s_i = g_i + x_{i+1} s_{i+1}` (from the end).
pub(crate) fn cumprod_grad<T: Float>(g: &Array<T>, x: &Array<T>, dim: usize) -> Array<T> {
    let gc = contiguous(g);
    let gd = dense(&gc).to_vec();
    let (outer, len, inner) = lanes(x.shape(), dim);
    let mut lane_no = 0;
    map_lanes(x, dim, |lane, out| {
        let (o, i) = (lane_no / inner.max(1), lane_no % inner.max(1));
        lane_no += 1;
        let gl = |k: usize| gd[(o * len + k) * inner + i];
        let mut s = T::zero();
        for k in (0..len).rev() {
            s = if k + 1 < len {
                gl(k) + lane[k + 1] * s
            } else {
                gl(k)
            };
            out[k] = s;
        }
        let mut prefix = T::one();
        for k in 0..len {
            out[k] = prefix * out[k];
            prefix = prefix * lane[k];
        }
        let _ = outer;
    })
}

/// The product of each lane along `dim` but the element itself, exact with zeros (from
/// products before and after it): `prod`'s gradient is `g` times this.
pub(crate) fn prod_others<T: Float>(x: &Array<T>, dim: usize) -> Array<T> {
    map_lanes(x, dim, |lane, out| {
        let mut prefix = T::one();
        for (o, &v) in out.iter_mut().zip(lane) {
            *o = prefix;
            prefix = prefix * v;
        }
        let mut suffix = T::one();
        for (o, &v) in out.iter_mut().zip(lane).rev() {
            *o = *o * suffix;
            suffix = suffix * v;
        }
    })
}

/// Reduces each lane along `dim` with `f` (lanes gathered into a buffer).
pub(crate) fn reduce_lanes<T: Float>(
    x: &Array<T>,
    dim: usize,
    keepdim: bool,
    f: impl Fn(&[T]) -> T,
) -> Array<T> {
    let (outer, len, inner) = lanes(x.shape(), dim);
    let c = contiguous(x);
    let src = dense(&c);
    Array::build(
        &crate::shape::reduced_shape(x.shape(), dim, keepdim),
        |out| {
            let mut lane = vec![T::zero(); len];
            for o in 0..outer {
                for i in 0..inner {
                    for (k, l) in lane.iter_mut().enumerate() {
                        *l = src[(o * len + k) * inner + i];
                    }
                    out[o * inner + i] = f(&lane);
                }
            }
        },
    )
}

/// `x` reversed along each of `dims`.
pub(crate) fn flip<T: Element>(x: &Array<T>, dims: &[usize]) -> Array<T> {
    let shape = x.shape();
    let strides = strides_of(shape);
    let c = contiguous(x);
    let src = dense(&c);
    let nd = shape.len();
    Array::build(shape, |out| {
        if out.is_empty() {
            return;
        }
        // Walk the output in order; the source offset moves backwards along flipped dims.
        let mut coord = vec![0usize; nd];
        for slot in out.iter_mut() {
            let off: usize = (0..nd)
                .map(|d| {
                    let c = if dims.contains(&d) {
                        shape[d] - 1 - coord[d]
                    } else {
                        coord[d]
                    };
                    c * strides[d]
                })
                .sum();
            *slot = src[off];
            for d in (0..nd).rev() {
                coord[d] += 1;
                if coord[d] < shape[d] {
                    break;
                }
                coord[d] = 0;
            }
        }
    })
}

/// Keeps the elements on and below (`upper`: on and above) diagonal `k` of the last two
/// dims and zeroes the rest, like `torch.tril`/`torch.triu`.
pub(crate) fn triangle<T: Float>(x: &Array<T>, k: i64, upper: bool) -> Array<T> {
    let nd = x.ndim();
    let (rows, cols) = (x.shape()[nd - 2], x.shape()[nd - 1]);
    let c = contiguous(x);
    let src = dense(&c);
    Array::build(x.shape(), |out| {
        for (at, (o, &s)) in out.iter_mut().zip(src.iter()).enumerate() {
            let (r, col) = ((at / cols.max(1)) % rows.max(1), at % cols.max(1));
            let diff = col as i64 - r as i64;
            let keep = if upper { diff >= k } else { diff <= k };
            *o = if keep { s } else { T::zero() };
        }
    })
}
