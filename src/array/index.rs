//! Indexing and rearranging kernels: `index_select`, `gather`, `scatter_add` and their
//! adjoints, `cat`, `flip`, the triangles. Indices are checked before any is used.

use super::layout::{for_each_row, row};
use super::select::{contiguous, dense, lanes};
use super::Array;
use crate::element::{Element, Float};
use crate::error::{Error, Result};
use crate::shape::{numel, Shape};
use std::mem::MaybeUninit;

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
    // SAFETY: the output is `outer × indices.len()` blocks of `inner`, each written once
    // (an empty output has no block to write).
    unsafe {
        Array::build_uninit(&shape, |out| {
            let mut blocks = out.chunks_exact_mut(inner.max(1));
            for o in 0..outer {
                for &k in indices {
                    let start = (o * len + k as usize) * inner;
                    if let Some(dst) = blocks.next() {
                        write_copy(dst, &src[start..start + inner]);
                    }
                }
            }
        })
    }
}

/// Copies `src` into the not-yet-initialized `dst` (of the same length).
fn write_copy<T: Element>(dst: &mut [MaybeUninit<T>], src: &[T]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        d.write(s);
    }
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
    // SAFETY: the parts' blocks tile the output: `outer` rows, each the parts' blocks end
    // to end (the caller's `shape` is the parts' shapes joined along `dim`).
    unsafe {
        Array::build_uninit(shape, |out| {
            let mut at = 0;
            for o in 0..outer {
                for part in &copies {
                    let block = part.shape()[dim] * inner;
                    let src = dense(part);
                    write_copy(&mut out[at..at + block], &src[o * block..(o + 1) * block]);
                    at += block;
                }
            }
            assert_eq!(at, out.len(), "cat: the parts do not tile the output");
        })
    }
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
