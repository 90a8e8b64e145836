"""The polynomial fits behind src/array/vmath.rs's GELU (f32), printed as f32 literals.

    python benches/python/fit_gelu.py

1. The tail: Φ(-y) = e^(-y²/2) t Q(t) with t = 1 / (1 + y/2), y = |x| in [0, 15]:
   Q(t) = Φ(-y) e^(y²/2) / t is smooth and bounded, fitted (least squares on Chebyshev
   terms, degree 12) in s = t - m, m the middle of t's range, so Horner's rule in f32 stays
   well conditioned. Relative error of the fit: about 2e-9.
2. Near 0 (|x| <= 0.7), where 1 - tail would lose bits: Φ(x) = 1/2 + x P(x²) (degree 5)
   for GELU, and Φ(x) + x φ(x) = 1/2 + x R(x²) (degree 5) for its derivative. Relative
   error of the fits: about 1e-10.

Values of Φ come from math.erfc in f64.
"""
import math

import numpy as np


def cdf(x):
    return 0.5 * math.erfc(-x / math.sqrt(2))


def density(x):
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def fit(xs, ys, deg):
    cheb = np.polynomial.chebyshev.Chebyshev.fit(xs, ys, deg)
    return cheb.convert(kind=np.polynomial.Polynomial)


def show(name, poly, xs, ys):
    err = np.max(np.abs(poly(xs) / ys - 1))
    print(f"{name}: relative error {err:.1e}; coefficients, highest power first:")
    for c in poly.coef[::-1]:
        print(f"    {float(np.float32(c))!r},")


ys = np.linspace(0, 15, 60000)
t = 1 / (1 + 0.5 * ys)
q = np.array([cdf(-y) * math.exp(y * y / 2) for y in ys]) / t
m = float(np.float32((t.min() + t.max()) / 2))
print(f"tail: t - {m!r}")
show("Q", fit(t - m, q, 12), t - m, q)

xs = np.linspace(1e-6, 0.7, 20000)
p = np.array([(cdf(x) - 0.5) / x for x in xs])
show("P (gelu near 0)", fit(xs**2, p, 5), xs**2, p)
r = np.array([(cdf(x) + x * density(x) - 0.5) / x for x in xs])
show("R (gelu' near 0)", fit(xs**2, r, 5), xs**2, r)
