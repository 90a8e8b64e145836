"""The polynomial fits behind src/array/vmath/mod.rs's GELU (f32), printed as f32 literals.

    python benches/python/fit_gelu.py

1. The tail: Φ(-y) = e^(-y²/2) M(y), y = |x|, with M(y) = Φ(-y) e^(y²/2) (Mills' ratio
   over √(2π)) smooth, bounded and decreasing.
   - On [0, 5], the kernels' common range, M is a ratio of polynomials in y, P(y) / Q(y)
     with Q(0) = 1, degrees 4 and 4, fitted to the smallest largest relative error (a
     linearised least-squares fit, reweighted by Lawson's rule towards the minimax).
     Every coefficient comes out positive, so Horner's rule at y >= 0 never cancels, and y
     is exact, so no rounded intermediate is amplified (a variable like t = 1 / (1 + y/2)
     carries its own rounding into the result, up to 3× magnified near 0). Relative
     error of the fit: about 7e-9.
   - On [5, 15] (past 15 the tail is 0 in f32), y M(y) = G(1/y²), G a polynomial of
     degree 6 (least squares on Chebyshev terms). Horner's rule in y would round at
     every step with the high powers dominating (5 · 2^-24 in f32); in 1/y² <= 1/25 the
     constant term dominates, and the rounding of 1/y² barely moves G. Relative error
     of the fit: about 7e-10.
2. Near 0 (|x| <= 0.7), for GELU's derivative: Φ(x) + x φ(x) = 1/2 + x R(x²) (degree 5),
   which keeps 1 ulp there. Relative error of the fit: about 1e-10.

Values of Φ come from math.erfc in f64.
"""
import math

import numpy as np


def cdf(x):
    return 0.5 * math.erfc(-x / math.sqrt(2))


def density(x):
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def mills(y):
    return cdf(-y) * math.exp(y * y / 2)


def fit(xs, ys, deg):
    cheb = np.polynomial.chebyshev.Chebyshev.fit(xs, ys, deg)
    return cheb.convert(kind=np.polynomial.Polynomial)


def rational(top, n, m, rounds=40):
    """P / Q of degrees n and m on [0, top], Q(0) = 1: the smallest largest relative error
    found over `rounds` reweighted linear fits (P - f Q = 0, scaled by the previous Q)."""
    ys = np.linspace(0, top, 20001)
    f = np.array([mills(y) for y in ys])
    u = ys / (top / 2) - 1
    vp = np.polynomial.chebyshev.chebvander(u, n)
    vq = np.polynomial.chebyshev.chebvander(u, m)
    q_prev, weight, best = np.ones_like(ys), np.ones_like(ys), None
    for _ in range(rounds):
        a = np.hstack([vp, -f[:, None] * vq[:, 1:]])
        scale = np.sqrt(weight) / (f * q_prev)
        sol, *_ = np.linalg.lstsq(a * scale[:, None], f * vq[:, 0] * scale, rcond=None)
        p_cheb, q_cheb = sol[: n + 1], np.concatenate([[1.0], sol[n + 1 :]])
        q_prev = vq @ q_cheb
        error = np.abs((vp @ p_cheb) / q_prev / f - 1)
        if best is None or error.max() < best[0]:
            best = (error.max(), p_cheb, q_cheb)
        weight = weight * error / error.max()
        weight /= weight.mean()

    def in_y(cheb):
        series = np.polynomial.chebyshev.Chebyshev(cheb, domain=[0, top])
        return series.convert(kind=np.polynomial.Polynomial).coef

    p, q = in_y(best[1]), in_y(best[2])
    return best[0], p / q[0], q / q[0]


def literals(coefficients):
    return ", ".join(repr(float(np.float32(c))) for c in coefficients[::-1])


error, p, q = rational(5, 4, 4)
print(f"Mills' ratio on [0, 5]: relative error {error:.1e}; highest power first:")
print(f"    NUMERATOR: [{literals(p)}]")
print(f"    DENOMINATOR: [{literals(q)}]")

ys = np.linspace(5, 15, 20001)
g = np.array([y * mills(y) for y in ys])
far = fit(1 / ys**2, g, 6)
error = np.max(np.abs(far(1 / ys**2) / g - 1))
print(f"y M(y) = G(1/y²) on [5, 15]: relative error {error:.1e}; highest power first:")
print(f"    FAR: [{literals(far.coef)}]")

xs = np.linspace(1e-6, 0.7, 20000)
r = np.array([(cdf(x) + x * density(x) - 0.5) / x for x in xs])
poly = fit(xs**2, r, 5)
err = np.max(np.abs(poly(xs**2) / r - 1))
print(f"R (gelu' near 0): relative error {err:.1e}; coefficients, highest power first:")
for c in poly.coef[::-1]:
    print(f"    {float(np.float32(c))!r},")
