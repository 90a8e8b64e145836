//! Walks by tiles: the last two dims of an operand read across its rows (a transposed
//! one), a tile at a time along its memory, and the register path that transposes 8 × 8
//! blocks of 4-byte elements on the way ([`zip_transposed`], [`map_transposed`]).

use super::layout::for_each_row;

/// Side of the square tiles that strided walks take (see [`for_each_tile`]).
pub(crate) const TILE: usize = 32;

/// True when a walk should go by tiles: at least two dims, and some operand reads its rows
/// with a stride (neither along its memory nor a broadcast), as a transposed one does.
pub(crate) fn wants_tiles(shape: &[usize], row_strides: &[usize]) -> bool {
    shape.len() >= 2 && row_strides.iter().any(|&s| s > 1)
}

/// `f(scratch, band, j0, h, w, offsets)` for each tile of the last two dims of `shape` (at
/// least 2 dims), `height` × `width` or smaller at the edges, with `out` (the row-major
/// output, `shape`'s size) cut into bands of the tiles' rows: `band` holds the `h` output
/// rows of the tile (all their columns), the tile starts at column `j0` and measures
/// `h` × `w`, and `offsets` is where it starts in each operand. With [`load_tile`], an
/// operand read across its rows (a transposed one) is read along its memory a tile at a
/// time, where a row-by-row walk would load a cache line per element and evict it before
/// its neighbours are used.
///
/// Every other band runs right to left: a band of a transposed operand reads a few bytes
/// from each of its many rows (32 from each of 1,000 in a 10⁶ add), more lines than L1
/// holds, so the next band starts on the lines the last one ended on, still cached.
/// Measured on a 10⁶ f32 add with a transposed operand, one thread, two builds run side by
/// side on the two cores: faster in 9 pairs of 10, by up to half.
///
/// Above [`PARALLEL_ELEMENTS`](super::elementwise::PARALLEL_ELEMENTS) the bands are dealt
/// out in equal runs, one per thread, each with its own `scratch()`; every element is
/// computed alike whatever the split.
pub(crate) fn for_each_tile<const N: usize, O: Send, S>(
    shape: &[usize],
    strides: [&[usize]; N],
    start: [usize; N],
    out: &mut [O],
    (height, width): (usize, usize),
    scratch: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, &mut [O], usize, usize, usize, [usize; N]) + Sync,
) {
    let nd = shape.len();
    debug_assert!(nd >= 2);
    let cols = shape[nd - 1];
    // The tiles of one band, left to right.
    let band = |s: &mut S, out: &mut [O], h: usize, at: [usize; N], back: bool| {
        let mut tile = |j0: usize| {
            let offsets = std::array::from_fn(|k| at[k] + j0 * strides[k][nd - 1]);
            f(s, out, j0, h, width.min(cols - j0), offsets);
        };
        let starts = (0..cols).step_by(width.max(1));
        if back {
            starts.rev().for_each(&mut tile);
        } else {
            starts.for_each(&mut tile);
        }
    };
    let threads = if out.len() < super::elementwise::PARALLEL_ELEMENTS {
        1
    } else {
        super::matmul::num_threads()
    };
    if threads < 2 {
        let mut s = scratch();
        let mut rest = out;
        let mut back = false;
        for_each_band(shape, strides, start, height, |h, at| {
            let (this, tail) = std::mem::take(&mut rest).split_at_mut(h * cols);
            rest = tail;
            band(&mut s, this, h, at, back);
            back = !back;
        });
        return;
    }
    let mut bands: Vec<(&mut [O], usize, [usize; N])> = Vec::new();
    let mut rest = out;
    for_each_band(shape, strides, start, height, |h, at| {
        let (this, tail) = std::mem::take(&mut rest).split_at_mut(h * cols);
        rest = tail;
        bands.push((this, h, at));
    });
    let per_thread = bands.len().div_ceil(threads);
    super::fork::fork_join(bands.chunks_mut(per_thread), |run| {
        let mut s = scratch();
        for (i, (out, h, at)) in run.iter_mut().enumerate() {
            band(&mut s, out, *h, *at, i % 2 == 1);
        }
    });
}

/// `visit(h, offsets)` for each band of `height` rows of the last two dims of `shape`, in
/// row-major order: its height and where its first row starts in each operand.
fn for_each_band<const N: usize>(
    shape: &[usize],
    strides: [&[usize]; N],
    start: [usize; N],
    height: usize,
    mut visit: impl FnMut(usize, [usize; N]),
) {
    let nd = shape.len();
    let rows = shape[nd - 2];
    for_each_row(
        &shape[..nd - 1],
        strides.map(|s| &s[..nd - 1]),
        start,
        |block| {
            for i0 in (0..rows).step_by(height.max(1)) {
                let at = std::array::from_fn(|k| block[k] + i0 * strides[k][nd - 2]);
                visit(height.min(rows - i0), at);
            }
        },
    )
}

/// Copies the `h` × `w` tile at `offset` of an operand with row stride `rs` and column
/// stride `cs` into `dst`, row-major with `dst_stride` between rows, reading along
/// whichever of the two strides is smaller (its memory order).
#[inline]
pub(crate) fn load_tile<T: Copy>(
    src: &[T],
    offset: usize,
    (rs, cs): (usize, usize),
    (h, w): (usize, usize),
    dst: &mut [T],
    dst_stride: usize,
) {
    if h == 0 || w == 0 {
        return;
    }
    assert!(
        offset + (h - 1) * rs + (w - 1) * cs < src.len() && (h - 1) * dst_stride + w <= dst.len(),
        "load_tile: tile outside its buffers"
    );
    let (from, to) = (src[offset..].as_ptr(), dst.as_mut_ptr());
    // SAFETY: the largest offsets read and written are checked just above.
    unsafe {
        if cs <= rs {
            for i in 0..h {
                for j in 0..w {
                    *to.add(i * dst_stride + j) = *from.add(i * rs + j * cs);
                }
            }
        } else {
            // Column by column: contiguous reads for a transposed operand (rs == 1).
            #[cfg(target_arch = "x86_64")]
            if rs == 1
                && std::mem::size_of::<T>() == 4
                && h >= 8
                && w >= 8
                && std::arch::is_x86_feature_detected!("avx")
            {
                // SAFETY: AVX is present (checked just above); `T` is 4 bytes, moved as
                // bits; every offset the blocks touch lies within those checked above.
                return transpose_4byte_avx(
                    from as *const f32,
                    cs,
                    (h, w),
                    to as *mut f32,
                    dst_stride,
                );
            }
            for j in 0..w {
                for i in 0..h {
                    *to.add(i * dst_stride + j) = *from.add(i * rs + j * cs);
                }
            }
        }
    }
}

/// `to[i * ds + j] = from[i + j * cs]` for `i < h`, `j < w`: the transposed-tile load of
/// [`load_tile`] for 4-byte elements, 8 × 8 blocks at a time through AVX shuffles
/// ([`transpose8`]), the edges one element at a time. The values are moved as bits: no
/// arithmetic touches them.
///
/// # Safety
/// The CPU has AVX, and every `from[i + j * cs]` and `to[i * ds + j]` is in bounds.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn transpose_4byte_avx(
    from: *const f32,
    cs: usize,
    (h, w): (usize, usize),
    to: *mut f32,
    ds: usize,
) {
    use std::arch::x86_64::_mm256_storeu_ps;
    let (h8, w8) = (h - h % 8, w - w % 8);
    // SAFETY (the whole body): the caller guarantees the bounds; each block reads
    // `from[i0 + k + (j0 + l) * cs]` and writes `to[(i0 + k) * ds + j0 + l]`, k, l < 8.
    unsafe {
        for j0 in (0..w8).step_by(8) {
            for i0 in (0..h8).step_by(8) {
                let rows = transpose8(from.add(i0 + j0 * cs), cs);
                for (k, v) in rows.into_iter().enumerate() {
                    _mm256_storeu_ps(to.add((i0 + k) * ds + j0), v);
                }
            }
        }
        // The edges: the last w % 8 columns in full, and the last h % 8 rows of the rest.
        for j in 0..w {
            let first = if j < w8 { h8 } else { 0 };
            for i in first..h {
                *to.add(i * ds + j) = *from.add(i + j * cs);
            }
        }
    }
}

/// The 8 × 8 block of 4-byte elements whose memory row `l` holds the 8 values at
/// `from + l * cs`, transposed: register `k` holds element `k` of each memory row. Eight
/// loads and 24 shuffles, as bits.
///
/// # Safety
/// The CPU has AVX, and `from[k + l * cs]` is in bounds for `k, l < 8`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
#[inline]
unsafe fn transpose8(from: *const f32, cs: usize) -> [std::arch::x86_64::__m256; 8] {
    use std::arch::x86_64::*;
    // SAFETY: the caller guarantees the eight reads are in bounds.
    let r = |l: usize| unsafe { _mm256_loadu_ps(from.add(l * cs)) };
    let (r0, r1, r2, r3) = (r(0), r(1), r(2), r(3));
    let (r4, r5, r6, r7) = (r(4), r(5), r(6), r(7));
    let (t0, t1) = (_mm256_unpacklo_ps(r0, r1), _mm256_unpackhi_ps(r0, r1));
    let (t2, t3) = (_mm256_unpacklo_ps(r2, r3), _mm256_unpackhi_ps(r2, r3));
    let (t4, t5) = (_mm256_unpacklo_ps(r4, r5), _mm256_unpackhi_ps(r4, r5));
    let (t6, t7) = (_mm256_unpacklo_ps(r6, r7), _mm256_unpackhi_ps(r6, r7));
    // Pairs of pairs: the low and the high halves of two 128-bit lanes.
    let halves = |a, b| {
        (
            _mm256_shuffle_ps::<0x44>(a, b),
            _mm256_shuffle_ps::<0xee>(a, b),
        )
    };
    let ((u0, u1), (u2, u3)) = (halves(t0, t2), halves(t1, t3));
    let ((u4, u5), (u6, u7)) = (halves(t4, t6), halves(t5, t7));
    [
        _mm256_permute2f128_ps::<0x20>(u0, u4),
        _mm256_permute2f128_ps::<0x20>(u1, u5),
        _mm256_permute2f128_ps::<0x20>(u2, u6),
        _mm256_permute2f128_ps::<0x20>(u3, u7),
        _mm256_permute2f128_ps::<0x31>(u0, u4),
        _mm256_permute2f128_ps::<0x31>(u1, u5),
        _mm256_permute2f128_ps::<0x31>(u2, u6),
        _mm256_permute2f128_ps::<0x31>(u3, u7),
    ]
}

/// Tiles for a walk in which the one strided operand has row and column strides `steps`:
/// [`TILE`] × [`TILE`], or, when [`zip_transposed`] takes its register path for it (a
/// transposed 4-byte operand on a CPU with AVX2), bands of 8 rows taken whole. No buffer
/// sets a width then, and the longer runs measured faster: a transposed add of 10⁶ f32
/// took 2.2× the contiguous one in full bands, 2.9× in 8 × 32 tiles (Zen 3, alternating
/// runs).
pub(crate) fn tile_shape<T>(steps: (usize, usize)) -> (usize, usize) {
    if registers_transpose::<T>(steps) {
        REGISTER_TILE
    } else {
        (TILE, TILE)
    }
}

/// The tiles of the register path (see [`tile_shape`]).
pub(crate) const REGISTER_TILE: (usize, usize) = (8, usize::MAX);

/// True when [`zip_transposed`] takes its register path for an operand of `T` with row
/// and column strides `(rs, cs)`.
fn registers_transpose<T>((rs, cs): (usize, usize)) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::mem::size_of::<T>() == 4
            && rs == 1
            && cs > 1
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (rs, cs);
        false
    }
}

/// A transposed operand's tile: element `(i, j)` at `data[offset + i + j * cs]`.
pub(crate) struct Transposed<'a, T> {
    pub data: &'a [T],
    pub offset: usize,
    pub cs: usize,
}

/// A row-major tile: element `(i, j)` at `data[offset + i * pitch + j]`.
pub(crate) struct Rows<S> {
    pub data: S,
    pub offset: usize,
    pub pitch: usize,
}

/// `out(i, j) = f(t(i, j), r(i, j))` over an `h` × `w` tile, `t` transposed and `r` and
/// `out` row-major, with no buffer between them: on a CPU with AVX2 and 4-byte elements,
/// `t`'s 8 × 8 blocks are transposed in registers ([`transpose8`]) and `f` is applied to
/// whole rows of 8, which the compiler vectorises; the edges, and other CPUs and types,
/// go one element at a time.
///
/// A tile copied into a buffer and read back at once can stall every load on store
/// forwarding (the buffer written 8 lanes wide, read 4 wide by code compiled for the
/// baseline target): a transposed add of 10⁶ f32 took 5.0 ms that way on a Zen 3, 2.3-2.9
/// ms this way (criterion, one thread), the rest waiting on the transposed operand's cache
/// lines. [`tile_shape`] says which walks take the register path.
pub(crate) fn zip_transposed<T: Copy, O: Copy>(
    t: Transposed<'_, T>,
    r: Rows<&[T]>,
    out: Rows<&mut [O]>,
    (h, w): (usize, usize),
    f: impl Fn(T, T) -> O,
) {
    if h == 0 || w == 0 {
        return;
    }
    assert!(
        r.offset + (h - 1) * r.pitch + w <= r.data.len(),
        "zip_transposed: tile outside its buffers"
    );
    // SAFETY: every `r(i, j)` is in bounds (checked just above).
    let reader = unsafe { RowPtr::new(&r) };
    tile_transposed(t, reader, out, (h, w), f);
}

/// `out(i, j) = f(t(i, j))`: [`zip_transposed`] with one operand.
pub(crate) fn map_transposed<T: Copy, O: Copy>(
    t: Transposed<'_, T>,
    out: Rows<&mut [O]>,
    (h, w): (usize, usize),
    f: impl Fn(T) -> O,
) {
    tile_transposed(t, NoRows, out, (h, w), move |x, ()| f(x));
}

/// The second operand of [`tile_transposed`]: one read along its rows, or none.
trait RowSource: Copy {
    type Item: Copy;
    /// Elements `(i, j..j + 8)`.
    ///
    /// # Safety
    /// They are in bounds.
    unsafe fn eight(self, i: usize, j: usize) -> [Self::Item; 8];
    /// Element `(i, j)`.
    ///
    /// # Safety
    /// It is in bounds.
    unsafe fn one(self, i: usize, j: usize) -> Self::Item;
}

/// A row-major operand whose every element in the tile is in bounds.
#[derive(Clone, Copy)]
struct RowPtr<T> {
    at: *const T,
    pitch: usize,
}

impl<T> RowPtr<T> {
    /// # Safety
    /// Every element of the tile the reader will be asked for is in bounds of `r.data`.
    unsafe fn new(r: &Rows<&[T]>) -> RowPtr<T> {
        RowPtr {
            // SAFETY: `r.offset` is in bounds, or one past the end (the caller's promise).
            at: unsafe { r.data.as_ptr().add(r.offset) },
            pitch: r.pitch,
        }
    }
}

impl<T: Copy> RowSource for RowPtr<T> {
    type Item = T;
    #[inline(always)]
    unsafe fn eight(self, i: usize, j: usize) -> [T; 8] {
        // SAFETY: in bounds (the caller's promise); `[T; 8]` has `T`'s alignment.
        unsafe { (self.at.add(i * self.pitch + j) as *const [T; 8]).read() }
    }
    #[inline(always)]
    unsafe fn one(self, i: usize, j: usize) -> T {
        // SAFETY: in bounds (the caller's promise).
        unsafe { *self.at.add(i * self.pitch + j) }
    }
}

/// No second operand.
#[derive(Clone, Copy)]
struct NoRows;

impl RowSource for NoRows {
    type Item = ();
    #[inline(always)]
    unsafe fn eight(self, _: usize, _: usize) -> [(); 8] {
        [(); 8]
    }
    #[inline(always)]
    unsafe fn one(self, _: usize, _: usize) {}
}

/// The walk of [`zip_transposed`] and [`map_transposed`].
fn tile_transposed<T: Copy, R: RowSource, O: Copy>(
    t: Transposed<'_, T>,
    r: R,
    out: Rows<&mut [O]>,
    (h, w): (usize, usize),
    f: impl Fn(T, R::Item) -> O,
) {
    if h == 0 || w == 0 {
        return;
    }
    assert!(
        t.offset + (h - 1) + (w - 1) * t.cs < t.data.len()
            && out.offset + (h - 1) * out.pitch + w <= out.data.len(),
        "tile_transposed: tile outside its buffers"
    );
    let from = t.data[t.offset..].as_ptr();
    let to = out.data[out.offset..].as_mut_ptr();
    #[cfg(target_arch = "x86_64")]
    if registers_transpose::<T>((1, t.cs)) {
        // SAFETY: AVX2 and FMA are present and `T` is 4 bytes (checked just above); the
        // largest offsets read and written are checked above, and `r`'s by its maker.
        return unsafe { tile_transposed_avx(from, t.cs, r, (to, out.pitch), (h, w), f) };
    }
    for i in 0..h {
        for j in 0..w {
            // SAFETY: in bounds (checked above, and `r` by its maker).
            unsafe { *to.add(i * out.pitch + j) = f(*from.add(i + j * t.cs), r.one(i, j)) };
        }
    }
}

/// [`tile_transposed`] through AVX registers.
///
/// # Safety
/// The CPU has AVX2 and FMA, `T` is 4 bytes of plain data, and for `i < h`, `j < w`,
/// `from[i + j * cs]`, `to[i * pitch + j]` and `r`'s `(i, j)` are in bounds.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn tile_transposed_avx<T: Copy, R: RowSource, O: Copy>(
    from: *const T,
    cs: usize,
    r: R,
    (to, pitch): (*mut O, usize),
    (h, w): (usize, usize),
    f: impl Fn(T, R::Item) -> O,
) {
    let (h8, w8) = (h - h % 8, w - w % 8);
    // SAFETY (the whole body): the caller guarantees the bounds and that `T` is 4 bytes;
    // a block reads `from[i0 + k + (j0 + l) * cs]` for k, l < 8, and every bit pattern
    // loaded is a value of `T` (it was one in memory). The values are read before any
    // result is written, and `f` sees whole arrays, so the loop body is straight vector
    // code with no stack round trip.
    unsafe {
        for i0 in (0..h8).step_by(8) {
            for j0 in (0..w8).step_by(8) {
                let rows = transpose8(from.add(i0 + j0 * cs) as *const f32, cs);
                for (k, v) in rows.iter().enumerate() {
                    let x: [T; 8] = std::mem::transmute_copy(v);
                    let y = r.eight(i0 + k, j0);
                    let z: [O; 8] = std::array::from_fn(|l| f(x[l], y[l]));
                    (to.add((i0 + k) * pitch + j0) as *mut [O; 8]).write(z);
                }
            }
        }
        for i in 0..h {
            let first = if i < h8 { w8 } else { 0 };
            for j in first..w {
                *to.add(i * pitch + j) = f(*from.add(i + j * cs), r.one(i, j));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `zip_transposed` and `map_transposed` agree with the plain definition on every tile
    /// from 0 × 0 to 19 × 19 (whole 8 × 8 blocks and every kind of edge), at an offset, for
    /// f32 (the register path where the CPU has AVX2) and f64 (one element at a time).
    #[test]
    fn transposed_tiles_match_the_definition() {
        fn check<T: Copy + PartialEq + std::fmt::Debug + From<u16> + std::ops::Add<Output = T>>() {
            let cs = 23;
            let t: Vec<T> = (0..cs * 21 + 5).map(|k| T::from(k as u16)).collect();
            let r: Vec<T> = (0..31 * 21).map(|k| T::from(1000 + k as u16)).collect();
            for h in 0..20 {
                for w in 0..20 {
                    let (pitch, offset) = (w + 3, 2);
                    let mut zipped = vec![T::from(0); offset + h * pitch];
                    let mut mapped = zipped.clone();
                    let tile = || Transposed {
                        data: &t,
                        offset: 3,
                        cs,
                    };
                    let rows = Rows {
                        data: &r[..],
                        offset: 5,
                        pitch: 31,
                    };
                    let out = |data| Rows {
                        data,
                        offset,
                        pitch,
                    };
                    zip_transposed(tile(), rows, out(&mut zipped[..]), (h, w), |x, y| x + y);
                    map_transposed(tile(), out(&mut mapped[..]), (h, w), |x| x + x);
                    for i in 0..h {
                        for j in 0..w {
                            let (x, y) = (t[3 + i + j * cs], r[5 + i * 31 + j]);
                            assert_eq!(zipped[offset + i * pitch + j], x + y, "{h}x{w} ({i}, {j})");
                            assert_eq!(mapped[offset + i * pitch + j], x + x, "{h}x{w} ({i}, {j})");
                        }
                    }
                    // Nothing outside the tile is written.
                    for (k, (&z, &m)) in zipped.iter().zip(&mapped).enumerate() {
                        let inside = k >= offset && (k - offset) % pitch < w;
                        if !inside {
                            assert_eq!((z, m), (T::from(0), T::from(0)), "{h}x{w} at {k}");
                        }
                    }
                }
            }
        }
        check::<f32>();
        check::<f64>();
    }

    /// A tile reaching past its buffers is refused before anything is read or written.
    #[test]
    #[should_panic(expected = "tile outside its buffers")]
    fn transposed_tile_out_of_bounds_panics() {
        let t = vec![0f32; 63];
        let mut out = vec![0f32; 64];
        let tile = Transposed {
            data: &t,
            offset: 0,
            cs: 8,
        };
        let dst = Rows {
            data: &mut out[..],
            offset: 0,
            pitch: 8,
        };
        map_transposed(tile, dst, (8, 8), |x| x);
    }
}
