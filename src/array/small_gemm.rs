//! Products too small for the GEMM, whose packing and dispatch would cost more than the
//! arithmetic (below `matmul::SMALL_PRODUCT` multiply-adds): the lecture's `[64, 4] x
//! [4, 2]` forward and its `[4, 64] x [64, 2]` weight gradient. Register tiles, and for a
//! short inner dimension whole rows; every output is one sum in `p` order, so each path
//! gives the bits of a sequential loop.

use super::matmul::{retype, Operand};
use crate::element::{DType, Float};

/// A short inner dimension (`k <= 8`) with A's rows contiguous: the lecture's forward
/// `x @ w`, `[64, 4] x [4, 2]`. Each output is a dot product of a `K`-element row of A,
/// loaded whole, with a column of B packed once; the sums run in `p` order, exactly as
/// the tiles do.
pub(super) fn short_rows_gemm<T: Float, const K: usize, const N: usize>(
    n: usize,
    a: &Operand<T>,
    b: &Operand<T>,
    c: &mut [T],
) {
    // N = 0 stands for "n columns, known only at run time (5 to 8)"; 1-4 are compile-time
    // widths, so the loops over columns unroll completely.
    let n = if N == 0 { n } else { N };
    let mut columns = [[T::zero(); K]; 8];
    for (q, column) in columns.iter_mut().enumerate().take(n) {
        for (p, value) in column.iter_mut().enumerate() {
            *value = b.data[p * b.rs + q * b.cs];
        }
    }
    if N != 0 && a.rs == K {
        // Rows packed one after another (a contiguous A): one loop over all of A, which
        // the compiler vectorises across rows.
        let m = c.len() / N;
        // SAFETY: `gemm_into` checked `Operand::fits` for m rows of K with a.rs == K and
        // a.cs == 1, so A's first m * K elements are in `a.data`; `c` holds m * N.
        return unsafe { dense_rows::<T, K, N>(m, a.data.as_ptr(), &columns, c.as_mut_ptr()) };
    }
    for (i, c_row) in c.chunks_exact_mut(n).enumerate() {
        let start = i * a.rs;
        // SAFETY: `gemm_into` checked `Operand::fits` for all m rows and K columns with
        // a.cs == 1, so row i's elements start..start + K lie inside `a.data`.
        let a_row: [T; K] = std::array::from_fn(|p| unsafe { *a.data.get_unchecked(start + p) });
        for (out, column) in c_row.iter_mut().zip(&columns) {
            let mut sum = T::zero();
            for p in 0..K {
                sum = sum + a_row[p] * column[p];
            }
            *out = sum;
        }
    }
}

multiversion! {
    /// `c = a @ columnsᵀ` for `m` dense rows of `K` in `a` and `N` outputs per row, compiled
    /// for the widest vectors the CPU has: each lane is one row, and its sums run in `p`
    /// order, so every flavour gives the same bits.
    ///
    /// # Safety
    /// `a` must point at `m * K` readable elements and `c` at `m * N` writable ones.
    unsafe fn dense_rows<T: Float, const K: usize, const N: usize>(
        m: usize,
        a: *const T,
        columns: &[[T; K]; 8],
        c: *mut T
    ) -> () {
        for i in 0..m {
            for (q, column) in columns.iter().enumerate().take(N) {
                let mut sum = T::zero();
                for (p, &b) in column.iter().enumerate() {
                    // SAFETY: i < m and p < K, so i * K + p < m * K.
                    sum = sum + unsafe { *a.add(i * K + p) } * b;
                }
                // SAFETY: i < m and q < N.
                unsafe { *c.add(i * N + q) = sum };
            }
        }
    }
}

/// Products too small for the GEMM (and float types it does not know), in register tiles
/// of up to 4x4: each tile keeps its sums in locals, so the loop over `k` carries no
/// dependency through memory and its 16 independent chains keep the FPU busy.
pub(super) fn small_gemm<T: Float>(
    m: usize,
    n: usize,
    k: usize,
    a: &Operand<T>,
    b: &Operand<T>,
    c: &mut [T],
) {
    let mut i0 = 0;
    while i0 < m {
        let rows = (m - i0).min(4);
        let mut j0 = 0;
        while j0 < n {
            let cols = (n - j0).min(4);
            let at = Tile { i0, j0, n, k };
            if rows == 4 && T::DTYPE == DType::F32 {
                // SAFETY: `Float` is sealed and `DTYPE` names the primitive, so `T` is f32
                // here: the casts retype memory as its own type.
                let done = unsafe {
                    super::outer::column_tile_f32(
                        (i0, j0, n, k),
                        cols,
                        &retype(a),
                        &retype(b),
                        std::slice::from_raw_parts_mut(c.as_mut_ptr() as *mut f32, c.len()),
                    )
                };
                if done {
                    j0 += cols;
                    continue;
                }
            }
            macro_rules! dispatch {
                ($(($r:literal, $c:literal))*) => {
                    match (rows, cols) {
                        $(($r, $c) if a.rs == 1 => column_tile::<T, $r, $c>(&at, a, b, c),
                          ($r, $c) if b.cs == 1 => tile::<T, $r, $c, true>(&at, a, b, c),
                          ($r, $c) => tile::<T, $r, $c, false>(&at, a, b, c),)*
                        _ => unreachable!("tiles are 1..=4 by 1..=4"),
                    }
                };
            }
            dispatch! {
                (1, 1) (1, 2) (1, 3) (1, 4) (2, 1) (2, 2) (2, 3) (2, 4)
                (3, 1) (3, 2) (3, 3) (3, 4) (4, 1) (4, 2) (4, 3) (4, 4)
            }
            j0 += cols;
        }
        i0 += rows;
    }
}

/// Where a tile sits: rows from `i0`, columns from `j0`, in a product with `n` columns and
/// inner dimension `k`.
struct Tile {
    i0: usize,
    j0: usize,
    n: usize,
    k: usize,
}

#[inline(always)]
fn tile<T: Float, const R: usize, const C: usize, const UNIT_B: bool>(
    at: &Tile,
    a: &Operand<T>,
    b: &Operand<T>,
    c: &mut [T],
) {
    let mut acc = [[T::zero(); C]; R];
    let (mut a_at, mut b_at) = (at.i0 * a.rs, at.j0 * b.cs);
    for _ in 0..at.k {
        // SAFETY: `gemm_into` checked with `Operand::fits` that the operands' last elements
        // lie inside their slices, and every index here addresses element (row, p) of A
        // or (p, col) of B with row < m, col < n and p < k.
        let a_col: [T; R] =
            std::array::from_fn(|r| unsafe { *a.data.get_unchecked(a_at + r * a.rs) });
        // With B's rows contiguous (UNIT_B, the usual case) the stride is a constant 1, so
        // the row loads as one vector.
        let b_cs = if UNIT_B { 1 } else { b.cs };
        let b_row: [T; C] =
            std::array::from_fn(|q| unsafe { *b.data.get_unchecked(b_at + q * b_cs) });
        for r in 0..R {
            for q in 0..C {
                acc[r][q] = acc[r][q] + a_col[r] * b_row[q];
            }
        }
        a_at += a.cs;
        b_at += b.rs;
    }
    for (r, acc_row) in acc.iter().enumerate() {
        let start = (at.i0 + r) * at.n + at.j0;
        c[start..start + C].copy_from_slice(acc_row);
    }
}

/// A tile where A's columns are contiguous (A is a transposed matrix: the weight
/// gradient `xᵀ @ g`): the sums are kept column by column, so each step of `k` loads a
/// column of A as one vector and multiplies it by one element of B's row. Each sum runs
/// in `p` order, as in [`tile`].
#[inline(always)]
fn column_tile<T: Float, const R: usize, const C: usize>(
    at: &Tile,
    a: &Operand<T>,
    b: &Operand<T>,
    c: &mut [T],
) {
    let mut acc = [[T::zero(); R]; C];
    let (mut a_at, mut b_at) = (at.i0, at.j0 * b.cs);
    for _ in 0..at.k {
        // SAFETY: as in `tile`, with a.rs == 1: elements (row, p) of A for row < m and
        // (p, col) of B for col < n, all checked by `Operand::fits`.
        let a_col: [T; R] = std::array::from_fn(|r| unsafe { *a.data.get_unchecked(a_at + r) });
        let b_row: [T; C] =
            std::array::from_fn(|q| unsafe { *b.data.get_unchecked(b_at + q * b.cs) });
        for q in 0..C {
            for r in 0..R {
                acc[q][r] = acc[q][r] + a_col[r] * b_row[q];
            }
        }
        a_at += a.cs;
        b_at += b.rs;
    }
    for (q, column) in acc.iter().enumerate() {
        for (r, &value) in column.iter().enumerate() {
            c[(at.i0 + r) * at.n + at.j0 + q] = value;
        }
    }
}
