//! The weight gradient of a small linear layer, `xᵀ @ g` (`[in, batch] x [batch, out]`),
//! in AVX registers: a sum of `batch` outer products of a column of `xᵀ` (a row of `x`,
//! contiguous) and a row of `g`.
//!
//! The portable tile (`small_gemm::column_tile`) keeps each output column in its own 4-lane
//! vector, so for the lecture's `[4, 64] x [64, 2]` it runs two 4-wide chains of 64 steps,
//! about 1,100 instructions (callgrind: 11% of the lecture's manual step). Here two output
//! columns share one 8-lane vector: a step is a broadcast of the 4 elements of `xᵀ`, a
//! permute of `g`'s row, a multiply and an add. Every output is still one sum in `p` order
//! with a separate multiply and add, so the bits are those of the portable tile (and of a
//! sequential loop).

use super::matmul::Operand;

/// `c[(i0 + r) * n + j0 + q]` for 4 rows `r` and `cols` (1 to 4) columns `q` of the
/// product of `a` (with unit row stride: a transposed matrix) and `b` (with unit column
/// stride), over the inner dimension `k`. False, with nothing written, where this CPU has
/// no AVX2 or the operands do not have those strides; the caller then takes the portable
/// tile.
pub(super) fn column_tile_f32(
    at: (usize, usize, usize, usize),
    cols: usize,
    a: &Operand<f32>,
    b: &Operand<f32>,
    c: &mut [f32],
) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        let (i0, j0, n, k) = at;
        if a.rs != 1 || b.cs != 1 || !(1..=4).contains(&cols) || k == 0 {
            return false;
        }
        if !std::arch::is_x86_feature_detected!("avx2") {
            return false;
        }
        // Every element read: (i0 + r, p) of A for r < 4 and (p, j0 + q) of B for q < cols,
        // p < k; every one written: row i0 + r, column j0 + q of `c`.
        assert!(
            i0 + 3 + (k - 1) * a.cs < a.data.len()
                && (k - 1) * b.rs + j0 + cols - 1 < b.data.len()
                && (i0 + 3) * n + j0 + cols <= c.len(),
            "matmul: tile outside its operands"
        );
        // SAFETY: the CPU has AVX2 (checked above), and the assert above bounds every
        // element the kernel reads and writes.
        unsafe {
            let (pa, pb, pc) = (
                a.data.as_ptr().add(i0),
                b.data.as_ptr().add(j0),
                c.as_mut_ptr().add(i0 * n + j0),
            );
            match cols {
                1 => tile::<1>(k, (pa, a.cs), (pb, b.rs), pc, n),
                2 => tile::<2>(k, (pa, a.cs), (pb, b.rs), pc, n),
                3 => tile::<3>(k, (pa, a.cs), (pb, b.rs), pc, n),
                _ => tile::<4>(k, (pa, a.cs), (pb, b.rs), pc, n),
            }
        }
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (at, cols, a, b, c);
        false
    }
}

/// # Safety
/// AVX2, and for every `p < k`: `a + p * a_cs` points at 4 readable elements, `b + p * b_rs`
/// at `COLS` (1 to 4) readable ones; `c + r * n` at `COLS` writable ones for `r < 4`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn tile<const COLS: usize>(
    k: usize,
    (a, a_cs): (*const f32, usize),
    (b, b_rs): (*const f32, usize),
    c: *mut f32,
    n: usize,
) {
    use std::arch::x86_64::*;
    // Lanes 0-3 hold column q (rows 0-3), lanes 4-7 column q + 1 (rows 0-3): the permutes
    // spread g's row [g_q, g_q+1, ...] over them. A third column alone uses the low half.
    let first = _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1);
    let second = _mm256_setr_epi32(2, 2, 2, 2, 3, 3, 3, 3);
    let mut low = _mm256_setzero_ps();
    let mut high = _mm256_setzero_ps();
    for p in 0..k {
        // SAFETY (loads): the caller's bounds, for this p; the row of B is read by exactly
        // `COLS` elements.
        let column = unsafe { _mm256_broadcast_ps(&_mm_loadu_ps(a.add(p * a_cs))) };
        let row = unsafe {
            let at = b.add(p * b_rs);
            match COLS {
                1 => _mm_set1_ps(*at),
                2 => _mm_castpd_ps(_mm_load_sd(at as *const f64)),
                3 => _mm_setr_ps(*at, *at.add(1), *at.add(2), 0.0),
                _ => _mm_loadu_ps(at),
            }
        };
        let row = _mm256_castps128_ps256(row);
        low = _mm256_add_ps(
            low,
            _mm256_mul_ps(column, _mm256_permutevar8x32_ps(row, first)),
        );
        if COLS > 2 {
            high = _mm256_add_ps(
                high,
                _mm256_mul_ps(column, _mm256_permutevar8x32_ps(row, second)),
            );
        }
    }
    let mut sums = [0.0f32; 16];
    // SAFETY: `sums` holds 16 elements, two vectors of 8.
    unsafe {
        _mm256_storeu_ps(sums.as_mut_ptr(), low);
        _mm256_storeu_ps(sums.as_mut_ptr().add(8), high);
    }
    for r in 0..4 {
        for q in 0..COLS {
            // SAFETY: r < 4 and q < COLS, inside the caller's bounds for `c`.
            unsafe { *c.add(r * n + q) = sums[q * 4 + r] };
        }
    }
}
