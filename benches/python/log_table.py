"""The tables of tapegrad's AVX-512 `log` (src/array/vmath/avx512.rs: LOG_INVERSE,
LOG_HEAD, LOG_TAIL), computed in f64 and printed as f32.

x = 2^k z with z in [0.796875, 1.59375): the bits of x minus LOG_OFFSET (0x3f4c0000)
give k (above bit 23) and the interval i (bits 19 to 22), sixteen intervals of equal
width in the bits. Each interval's c is its middle, or exactly 1 for the interval
around 1 (there ln x = ln(1 + r) with r = z - 1 exact, so results near 0 keep their
relative accuracy). The kernel computes r = z (1/c) - 1 with one rounding, and needs
-ln(1/c) for the 1/c it actually multiplies by: the f32 one. That logarithm is split in
a head, a multiple of 2^-12 (so k ln2_hi + head is exact in f32), and the rest.

Run: python3 benches/python/log_table.py (standard library only).
"""

import math
import struct

OFFSET = 0x3F4C0000


def f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def from_bits(b: int) -> float:
    return struct.unpack("<f", struct.pack("<I", b))[0]


inverse, head, tail = [], [], []
for i in range(16):
    lo, hi = from_bits(OFFSET + (i << 19)), from_bits(OFFSET + ((i + 1) << 19))
    c = 1.0 if lo <= 1.0 < hi else (lo + hi) / 2
    inv = f32(1.0 / c)
    log_c = -math.log(inv)
    h = round(log_c * 4096) / 4096
    inverse.append(inv)
    head.append(h)
    tail.append(f32(log_c - h))

for name, values in [("LOG_INVERSE", inverse), ("LOG_HEAD", head), ("LOG_TAIL", tail)]:
    print(f"{name}: [{', '.join(repr(f32(v)) for v in values)}]")
