//! Matmul: `[..., m, k] x [..., k, n] -> [..., m, n]` with broadcast batch dims.
//!
//! Operands are handed to the GEMM as (pointer, row stride, column stride), so a
//! transposed view costs nothing. Tiny products (the lecture's 64x4 by 4x2) skip the GEMM:
//! its packing and dispatch cost more than the arithmetic.

use super::layout::Layout;
use super::small_gemm::{short_rows_gemm, small_gemm};
use super::Array;
use crate::element::{DType, Float};
use crate::error::Result;
use crate::shape::{matmul_shape, numel, shape_of, Shape};
use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Below this many multiply-adds a plain loop beats the GEMM's setup (measured: benches/kernels.rs).
const SMALL_PRODUCT: usize = 16 * 1024;
/// Above this many multiply-adds a second thread pays for itself.
const PARALLEL_PRODUCT: usize = 192 * 192 * 192;

/// Threads set by [`set_num_threads`] (0: not set).
static THREADS_SET: AtomicUsize = AtomicUsize::new(0);

/// Threads for large kernels (matmul, conv, pooling, elementwise ops and reductions above
/// 2^17 elements): [`set_num_threads`]'s value if
/// called, else `TAPEGRAD_NUM_THREADS`, else `RAYON_NUM_THREADS`, else the machine's
/// parallelism. The environment is read once: reading it per call would cost more than a
/// small matmul.
pub(crate) fn num_threads() -> usize {
    static FROM_ENV: OnceLock<usize> = OnceLock::new();
    match THREADS_SET.load(Ordering::Relaxed) {
        0 => *FROM_ENV.get_or_init(|| {
            ["TAPEGRAD_NUM_THREADS", "RAYON_NUM_THREADS"]
                .iter()
                .find_map(|v| std::env::var(v).ok()?.parse::<usize>().ok())
                .filter(|&n| n > 0)
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        }),
        n => n,
    }
}

/// Sets how many threads tapegrad's large kernels split their work into, like
/// `torch.set_num_threads(n)`, overriding `TAPEGRAD_NUM_THREADS` and `RAYON_NUM_THREADS`
/// (0 goes back to them). Matmul and conv split above a size; so do elementwise ops, the
/// vector math, sums, `max_dim` and cross-entropy above 2^17 elements, and those give the
/// same bits for any count (a sum of everything adds fixed pieces of 2^16 in order).
/// Float results can change in their last bits only where the split changes a sum's
/// order: a conv's weight gradient adds one partial sum per thread.
///
/// ```
/// tapegrad::set_num_threads(1);
/// assert_eq!(tapegrad::get_num_threads(), 1);
/// tapegrad::set_num_threads(0); // back to the environment's count
/// assert!(tapegrad::get_num_threads() >= 1);
/// ```
pub fn set_num_threads(n: usize) {
    THREADS_SET.store(n, Ordering::Relaxed);
}

/// The number of threads large kernels use now (see [`set_num_threads`]), like
/// `torch.get_num_threads()`.
///
/// ```
/// assert!(tapegrad::get_num_threads() >= 1);
/// ```
pub fn get_num_threads() -> usize {
    num_threads()
}

/// Batched matmul with broadcasting of the batch dims; both operands have at least 2 dims.
pub(crate) fn matmul<T: Float>(op: &'static str, a: &Array<T>, b: &Array<T>) -> Result<Array<T>> {
    matmul_swapped(op, (a, false), (b, false))
}

/// [`matmul`] of `a` and `b` with the last two dims of `a` swapped first if `swap_a`, and
/// of `b` if `swap_b` (`aᵀ @ g`, `g @ bᵀ`: the matmul chain rule's products). The swap is
/// read through the strides, as the transposed views would be, so the bits are those of
/// `matmul` of the views; only no view array is made.
pub(crate) fn matmul_swapped<T: Float>(
    op: &'static str,
    (a, swap_a): (&Array<T>, bool),
    (b, swap_b): (&Array<T>, bool),
) -> Result<Array<T>> {
    let (la, lb) = (a.layout(), b.layout());
    if la.shape.len() == 2 && lb.shape.len() == 2 {
        // Plain 2-D operands (the common case): no layout is built at all.
        let matrix = |l: &Layout, swap: bool| {
            let (d, s) = (&l.shape, &l.strides);
            if swap {
                ([d[1], d[0]], (s[1], s[0]))
            } else {
                ([d[0], d[1]], (s[0], s[1]))
            }
        };
        let ((da, (ars, acs)), (db, (brs, bcs))) = (matrix(la, swap_a), matrix(lb, swap_b));
        let (m, k, n) = (da[0], da[1], db[1]);
        // The checks of `matmul_shape`, on two numbers; it makes the error when one fails.
        let fits = |(m, n): (usize, usize)| {
            m.max(1)
                .checked_mul(n.max(1))
                .is_some_and(|c| c <= crate::shape::MAX_NUMEL)
        };
        if k != db[0] || !fits((m, n)) {
            return Err(matmul_shape(op, &da, &db).expect_err("a product that does not fit"));
        }
        let out_shape = [m, n];
        if m * n == 0 || k == 0 {
            return Ok(Array::full(&out_shape, T::zero()));
        }
        return Ok(a.read_with(b, |xa, xb| {
            Array::build(&out_shape, |c| {
                let lhs = Operand {
                    data: &xa[la.offset..],
                    rs: ars,
                    cs: acs,
                };
                let rhs = Operand {
                    data: &xb[lb.offset..],
                    rs: brs,
                    cs: bcs,
                };
                gemm_into(m, n, k, &lhs, &rhs, c);
            })
        }));
    }
    // A batched operand: its own layout, or a copy with the last two dims swapped.
    let swapped = |l, swap: bool| {
        if swap {
            Cow::Owned(Layout::transpose(l, l.shape.len() - 2, l.shape.len() - 1))
        } else {
            Cow::Borrowed(l)
        }
    };
    let (la, lb) = (swapped(la, swap_a), swapped(lb, swap_b));
    let out_shape = matmul_shape(op, &la.shape, &lb.shape)?;
    let k = la.shape[la.shape.len() - 1];
    let nb = out_shape.len() - 2;
    let (m, n) = (out_shape[nb], out_shape[nb + 1]);
    if numel(&out_shape) == 0 || k == 0 {
        return Ok(Array::full(&out_shape, T::zero()));
    }
    let with = |dims: [usize; 2]| -> Shape {
        let mut s = shape_of(&out_shape[..nb]);
        s.extend_from_slice(&dims);
        s
    };
    let (la, lb) = (
        la.broadcast_to(&with([m, k])),
        lb.broadcast_to(&with([k, n])),
    );
    // Every element of the output is written: the GEMM does not read it, the tiles cover it.
    Ok(a.read_with(b, |da, db| {
        Array::build(&out_shape, |out| {
            for (bi, c) in out.chunks_exact_mut(m * n).enumerate() {
                let (oa, ob) = (batch_offset(&la, nb, bi), batch_offset(&lb, nb, bi));
                let lhs = Operand {
                    data: &da[oa..],
                    rs: la.strides[nb],
                    cs: la.strides[nb + 1],
                };
                let rhs = Operand {
                    data: &db[ob..],
                    rs: lb.strides[nb],
                    cs: lb.strides[nb + 1],
                };
                gemm_into(m, n, k, &lhs, &rhs, c);
            }
        })
    }))
}

/// Offset of batch `index` (row-major over the first `nb` dims) in a broadcast layout.
fn batch_offset(layout: &Layout, nb: usize, mut index: usize) -> usize {
    let mut offset = layout.offset;
    for d in (0..nb).rev() {
        offset += (index % layout.shape[d]) * layout.strides[d];
        index /= layout.shape[d];
    }
    offset
}

/// A matrix operand: its first element is `data[0]`, element (i, j) is `data[i*rs + j*cs]`.
pub(crate) struct Operand<'a, T> {
    pub data: &'a [T],
    pub rs: usize,
    pub cs: usize,
}

impl<T> Operand<'_, T> {
    /// The last index the operand reaches must lie inside its slice.
    fn fits(&self, rows: usize, cols: usize) -> bool {
        (rows - 1) * self.rs + (cols - 1) * self.cs < self.data.len()
    }
}

/// One single-threaded (m x k) by (k x n) product into a contiguous `c` of `m * n`
/// elements: `c = a @ b`, or `c += a @ b` if `accumulate`. For kernels that split their
/// own work across threads (convolution runs one product per sample and group).
pub(crate) fn gemm_slices<T: Float>(
    m: usize,
    n: usize,
    k: usize,
    a: &Operand<T>,
    b: &Operand<T>,
    c: &mut [T],
    accumulate: bool,
) {
    assert!(c.len() == m * n, "matmul: output of the wrong size");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c.fill(T::zero());
        }
        return;
    }
    assert!(
        a.fits(m, k) && b.fits(k, n),
        "matmul: operand outside its buffer"
    );
    if m * n * k < SMALL_PRODUCT {
        if accumulate {
            let mut product = vec![T::zero(); m * n];
            small_gemm(m, n, k, a, b, &mut product);
            for (c, p) in c.iter_mut().zip(product) {
                *c = *c + p;
            }
        } else {
            small_gemm(m, n, k, a, b, c);
        }
        return;
    }
    // SAFETY (each arm): as in `gemm_into`, `T` is the primitive `DTYPE` names, and the
    // operands fit (checked above).
    unsafe {
        match T::DTYPE {
            DType::F32 => gemm_raw_into::<f32>(
                m,
                n,
                k,
                &retype(a),
                &retype(b),
                std::slice::from_raw_parts_mut(c.as_mut_ptr() as *mut f32, c.len()),
                accumulate,
            ),
            DType::F64 => gemm_raw_into::<f64>(
                m,
                n,
                k,
                &retype(a),
                &retype(b),
                std::slice::from_raw_parts_mut(c.as_mut_ptr() as *mut f64, c.len()),
                accumulate,
            ),
            DType::I64 | DType::Bool => unreachable!("Float is only f32 and f64"),
        }
    }
}

/// A product through the `gemm` crate, for `E` = f32 or f64. A large one runs on several
/// threads, each computing a band of `c` with the single-threaded GEMM: measured on the
/// S2 MLP's shapes (128x784 by 784x256, and the weight gradient's 256x128 by 128x784,
/// with transposed operands), gemm's own threading gained little over one thread or even
/// lost to it, while bands scale. Each thread packs the whole of the operand its band
/// does not split, so the bands split the longer side: bands of columns where `c` has
/// more columns than rows (each thread then packs all of `a`, the smaller), else of rows.
fn gemm_typed<E: GemmElement>(
    m: usize,
    n: usize,
    k: usize,
    a: &Operand<E>,
    b: &Operand<E>,
    c: &mut [E],
) {
    let threads = num_threads();
    let split_columns = n > m && n >= 2 * MIN_ROWS_PER_THREAD;
    if m * n * k < PARALLEL_PRODUCT
        || threads < 2
        || !(split_columns || m >= 2 * MIN_ROWS_PER_THREAD)
    {
        // SAFETY: the caller checked `fits` for both operands and `c.len() == m * n`.
        unsafe { gemm_raw_into(m, n, k, a, b, c, false) };
        return;
    }
    if split_columns {
        // More columns than rows: bands of columns, so each thread packs only its own
        // columns of `b` (bands of rows would each pack all of it).
        let cols = n.div_ceil(threads).next_multiple_of(16);
        let dst = SendPtr(c.as_mut_ptr());
        let band = |j0: usize| {
            let n_band = cols.min(n - j0);
            let b_band = Operand {
                data: &b.data[j0 * b.cs..],
                rs: b.rs,
                cs: b.cs,
            };
            assert!(b_band.fits(k, n_band), "matmul: band outside its buffer");
            // SAFETY: `a` fits (checked by the caller), `b_band` fits (checked); the band
            // writes columns j0..j0 + n_band of rows 0..m of `c` (m * n elements, the
            // caller's guarantee), which no other band writes.
            unsafe { gemm_raw_strided(m, n_band, k, a, &b_band, dst.at(j0), n, false) }
        };
        super::fork::fork_join((0..n).step_by(cols), band);
        return;
    }
    let rows = m.div_ceil(threads).max(MIN_ROWS_PER_THREAD);
    let band = |(i, c_band): (usize, &mut [E])| {
        let a_band = Operand {
            data: &a.data[i * rows * a.rs..],
            rs: a.rs,
            cs: a.cs,
        };
        let m_band = c_band.len() / n;
        assert!(a_band.fits(m_band, k), "matmul: band outside its buffer");
        // SAFETY: `a_band` fits (checked), `b` fits (checked by the caller), and `c_band`
        // holds `m_band * n` elements.
        unsafe { gemm_raw_into(m_band, n, k, &a_band, b, c_band, false) }
    };
    super::fork::fork_join(c.chunks_mut(rows * n).enumerate(), band);
}

/// The destination of a band of columns, shared by the threads that write disjoint
/// columns of it.
#[derive(Clone, Copy)]
struct SendPtr<E>(*mut E);

impl<E> SendPtr<E> {
    /// The address `i` elements on (a method, so closures capture the whole `SendPtr`).
    fn at(self, i: usize) -> *mut E {
        self.0.wrapping_add(i)
    }
}
// SAFETY: each thread writes only its own band's elements (see `gemm_typed`); the pointer
// itself is only copied.
unsafe impl<E: Send> Send for SendPtr<E> {}
// SAFETY: as above.
unsafe impl<E: Send> Sync for SendPtr<E> {}

/// Fewer rows (or columns) than this per thread would starve the GEMM's register tiles.
const MIN_ROWS_PER_THREAD: usize = 32;

/// The element types the `gemm` crate multiplies (and threads may share).
trait GemmElement: 'static + Copy + Send + Sync + num_traits::Zero + num_traits::One {
    /// gemm's kernel for this type, picked for this CPU (AVX-512, AVX2+FMA, ...) on first
    /// use and cached by gemm.
    fn kernel() -> GemmFn<Self>;
}

/// gemm's entry point: `dst := alpha dst + beta lhs rhs` over strided operands (m, n, k;
/// dst, its column and row strides, whether to read it; lhs and rhs likewise; alpha,
/// beta; three conjugation flags; the parallelism).
type GemmFn<T> = unsafe fn(
    usize,
    usize,
    usize,
    *mut T,
    isize,
    isize,
    bool,
    *const T,
    isize,
    isize,
    *const T,
    isize,
    isize,
    T,
    T,
    bool,
    bool,
    bool,
    gemm_common::Parallelism,
);

impl GemmElement for f32 {
    fn kernel() -> GemmFn<f32> {
        gemm_f32::gemm::f32::get_gemm_fn()
    }
}

impl GemmElement for f64 {
    fn kernel() -> GemmFn<f64> {
        gemm_f64::gemm::f64::get_gemm_fn()
    }
}

/// Views `op` as an operand of `E`.
///
/// # Safety
/// `E` must be the same type as `T`.
pub(super) unsafe fn retype<'a, T, E>(op: &Operand<'a, T>) -> Operand<'a, E> {
    Operand {
        // SAFETY: same type, so same length, layout and lifetime.
        data: unsafe { std::slice::from_raw_parts(op.data.as_ptr() as *const E, op.data.len()) },
        rs: op.rs,
        cs: op.cs,
    }
}

/// `c = a @ b` for one (m x k) by (k x n) product into a contiguous `c` (whatever it
/// holds: every element is written, none read). Large ones split across threads.
///
/// Not inlined: inside the batch loop of [`matmul`], its many inlined kernels had the
/// loop set up values for all of them, some 150 instructions per call of a tiny product.
#[inline(never)]
pub(crate) fn gemm_into<T: Float>(
    m: usize,
    n: usize,
    k: usize,
    a: &Operand<T>,
    b: &Operand<T>,
    c: &mut [T],
) {
    assert!(
        a.fits(m, k) && b.fits(k, n) && c.len() == m * n,
        "matmul: operand outside its buffer"
    );
    let work = m * n * k;
    if work >= SMALL_PRODUCT {
        // SAFETY (each arm): `Float` is sealed and `DTYPE` names the primitive each
        // implementor is, so in the `F32` arm `T` is `f32` (and `f64` in the other): the
        // casts retype memory as its own type.
        unsafe {
            match T::DTYPE {
                DType::F32 => gemm_typed::<f32>(
                    m,
                    n,
                    k,
                    &retype(a),
                    &retype(b),
                    std::slice::from_raw_parts_mut(c.as_mut_ptr() as *mut f32, c.len()),
                ),
                DType::F64 => gemm_typed::<f64>(
                    m,
                    n,
                    k,
                    &retype(a),
                    &retype(b),
                    std::slice::from_raw_parts_mut(c.as_mut_ptr() as *mut f64, c.len()),
                ),
                DType::I64 | DType::Bool => unreachable!("Float is only f32 and f64"),
            }
        }
        return;
    }
    if a.cs == 1 && n <= 8 && k <= 8 {
        // Every (k, n) up to 8 x 4 gets its own fully unrolled loop; wider n shares one per k.
        macro_rules! short {
            ($($k:literal)*) => {
                match (k, n) {
                    $(
                        ($k, 1) => return short_rows_gemm::<T, $k, 1>(n, a, b, c),
                        ($k, 2) => return short_rows_gemm::<T, $k, 2>(n, a, b, c),
                        ($k, 3) => return short_rows_gemm::<T, $k, 3>(n, a, b, c),
                        ($k, 4) => return short_rows_gemm::<T, $k, 4>(n, a, b, c),
                        ($k, _) => return short_rows_gemm::<T, $k, 0>(n, a, b, c),
                    )*
                    _ => {}
                }
            };
        }
        short!(1 2 3 4 5 6 7 8);
    }
    small_gemm(m, n, k, a, b, c);
}

/// `c = a @ b`, or `c += a @ b` if `accumulate`.
///
/// # Safety
/// The operands must satisfy [`Operand::fits`] for (m x k) and (k x n), and `c` must hold
/// `m * n` elements; strides then fit in `isize` because they index allocated buffers.
unsafe fn gemm_raw_into<E: GemmElement>(
    m: usize,
    n: usize,
    k: usize,
    a: &Operand<E>,
    b: &Operand<E>,
    c: &mut [E],
    accumulate: bool,
) {
    // SAFETY: the caller's guarantee, passed on; `c` holds m rows of n.
    unsafe { gemm_raw_strided(m, n, k, a, b, c.as_mut_ptr(), n, accumulate) }
}

/// [`gemm_raw_into`] into `m` rows of `n` at `c`, `c_rs` apart.
///
/// # Safety
/// As [`gemm_raw_into`], with `c + i * c_rs + j` writable for `i < m`, `j < n`.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_raw_strided<E: GemmElement>(
    m: usize,
    n: usize,
    k: usize,
    a: &Operand<E>,
    b: &Operand<E>,
    c: *mut E,
    c_rs: usize,
    accumulate: bool,
) {
    let (alpha, beta) = (if accumulate { E::one() } else { E::zero() }, E::one());
    // gemm's kernels prefer a column-major destination: a row-major one (ours, n > 1) is
    // computed as its transpose, c^T = b^T a^T, by swapping the operands and their strides
    // (as the gemm crate's own front end does).
    let (rows, cols, dst_cs, dst_rs, lhs, rhs) = if n > 1 {
        (
            n,
            m,
            c_rs as isize,
            1,
            (b.data, b.rs, b.cs),
            (a.data, a.rs, a.cs),
        )
    } else {
        (
            m,
            n,
            1,
            c_rs as isize,
            (a.data, a.cs, a.rs),
            (b.data, b.cs, b.rs),
        )
    };
    // SAFETY: by the caller's guarantee every element read or written lies inside its
    // buffer; the transposed call reads and writes the same elements.
    unsafe {
        E::kernel()(
            rows,
            cols,
            k,
            c,
            dst_cs,
            dst_rs,
            accumulate,
            lhs.0.as_ptr(),
            lhs.1 as isize,
            lhs.2 as isize,
            rhs.0.as_ptr(),
            rhs.1 as isize,
            rhs.2 as isize,
            alpha,
            beta,
            false,
            false,
            false,
            gemm_common::Parallelism::None,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;

    /// `matmul_swapped` gives exactly the bits of `matmul` of the transposed views: 2-D
    /// operands (the tiny kernels and, at 40³, the GEMM), views at an offset, and batched
    /// operands broadcast against 2-D ones.
    #[test]
    fn swapped_products_match_the_views() {
        crate::manual_seed(7);
        let view = |x: &Array<f32>, swap: bool| {
            let nd = x.ndim();
            if swap {
                x.with_layout(x.layout().transpose(nd - 2, nd - 1))
            } else {
                x.clone()
            }
        };
        let cases: [(&[usize], &[usize]); 6] = [
            (&[4, 64], &[64, 2]),
            (&[64, 4], &[2, 4]),
            (&[3, 5], &[5, 3]),
            (&[40, 40], &[40, 40]),
            (&[2, 3, 5], &[5, 4]),
            (&[5, 3], &[2, 4, 5]),
        ];
        for (sa, sb) in cases {
            let (a, b) = (Tensor::<f32>::randn(sa), Tensor::<f32>::randn(sb));
            // One more row in front, then narrowed off: a view that starts at an offset.
            let shifted = Tensor::<f32>::randn(&[sa[0] + 1, sa[1..].iter().product()]);
            let at_offset = shifted.narrow(0, 1, sa[0]).reshape(sa);
            for a in [a.array(), at_offset.array()] {
                for (swap_a, swap_b) in [(false, false), (true, false), (false, true), (true, true)]
                {
                    let (va, vb) = (view(a, swap_a), view(b.array(), swap_b));
                    let expected = matmul("matmul", &va, &vb);
                    let got = matmul_swapped("matmul", (a, swap_a), (b.array(), swap_b));
                    match (expected, got) {
                        (Ok(e), Ok(g)) => {
                            assert_eq!(e.shape(), g.shape(), "{sa:?} {sb:?} {swap_a} {swap_b}");
                            assert_eq!(e.to_vec(), g.to_vec(), "{sa:?} {sb:?} {swap_a} {swap_b}");
                        }
                        (Err(e), Err(g)) => assert_eq!(e.to_string(), g.to_string()),
                        (e, g) => panic!("{sa:?} {sb:?} {swap_a} {swap_b}: {e:?} against {g:?}"),
                    }
                }
            }
        }
    }
}
