"""Special functions: erf, erfc, erf_inv, lgamma, digamma, polygamma.

NumPy only, vectorized: each function splits its domain into a few regions
and evaluates a series, a continued fraction or an asymptotic expansion on
the whole region at once (a Python loop runs over terms and regions, never
over elements). The work is done in float64 and the result is given in the
operand's float type (an integer operand gives float64, as NumPy's ufuncs).
Measured against Python's ``math.erf``, ``math.erfc`` and ``math.lgamma``,
the relative error stays below 1e-14 over the whole float64 range except
next to the zeros of lgamma and digamma, where it is absolute.

The derivatives are the textbook ones, written with primitives so that they
differentiate again: erf' = 2/sqrt(pi) exp(-x^2), erf_inv' = sqrt(pi)/2
exp(erf_inv(x)^2), lgamma' = digamma, digamma' = polygamma(1, .),
polygamma(m, .)' = polygamma(m + 1, .).
"""

from __future__ import annotations

import math
from collections.abc import Callable
import numpy as np

from nanojax.core import PerPrimitive, Primitive
from nanojax.primitives.base import (_ELEMENTWISE_AVAL, ELEMENTWISE_ARITY, _fit_tangent,
                                     _register, batch_elementwise, unary)
from nanojax.primitives.elementwise import add, exp_p, mul, neg

_SQRT_PI = math.sqrt(math.pi)
_EULER = 0.57721566490153286060651209
_LOG_PI = math.log(math.pi)
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
# B_2, B_4, ..., B_20: the Bernoulli numbers of the asymptotic series.
_BERNOULLI = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510,
              43867 / 798, -174611 / 330]


def _float_impl(fn: Callable) -> Callable:
    """An impl from ``fn`` on a float64 array: the operand's float type out, scalars as scalars."""
    def impl(x):
        dtype = np.result_type(x)
        dtype = dtype if dtype.kind == "f" else np.dtype(np.float64)
        with np.errstate(all="ignore"):
            out = fn(np.asarray(x, np.float64)).astype(dtype, copy=False)
        return out[()] if out.ndim == 0 else out
    return impl


def _by_region(x: np.ndarray, regions: list) -> np.ndarray:
    """``out[mask] = fn(x[mask])`` for each ``(mask, fn)``; NaN where none applies."""
    out = np.full(x.shape, np.nan)
    for mask, fn in regions:
        if mask.any():
            out[mask] = fn(x[mask])
    return out


def _exp_minus_square(x: np.ndarray) -> np.ndarray:
    """``exp(-x*x)`` without the rounding of ``x*x``, which exp would magnify by x*x.

    ``x = hi + lo`` with ``hi`` of 24 bits, so ``hi*hi`` is exact and the
    rest, ``lo*(x + hi)``, is small.
    """
    hi = x.astype(np.float32).astype(np.float64)
    return np.exp(-hi * hi) * np.exp(-(x - hi) * (x + hi))


# ----- erf and erfc ----------------------------------------------------------------------

def _erf_series(x: np.ndarray) -> np.ndarray:
    # erf(x) = 2/sqrt(pi) exp(-x^2) sum_n 2^n x^(2n+1) / (1*3*...*(2n+1)): positive
    # terms, no cancellation; 30 of them reach float64 precision for |x| < 1.
    z = 2.0 * x * x
    total = np.ones_like(x)
    for n in range(30, 0, -1):
        total = 1.0 + total * z / (2 * n + 1)
    return 2.0 / _SQRT_PI * x * np.exp(-x * x) * total


def _erfc_fraction(x: np.ndarray, depth: int) -> np.ndarray:
    # Laplace's continued fraction for erfc, its even part: 2x / (2x^2+1 - 1*2 /
    # (2x^2+5 - 3*4 / (2x^2+9 - ...))), run from the bottom up (x >= 1).
    z = 2.0 * x * x
    t = z + (4 * depth + 1)
    for k in range(depth, 0, -1):
        t = z + (4 * k - 3) - (2 * k - 1) * (2 * k) / t
    return _exp_minus_square(x) * (2.0 / _SQRT_PI) * x / t


def _erfc_positive(x: np.ndarray) -> np.ndarray:
    """erfc on x >= 0 (NaN passes through)."""
    return _by_region(x, [
        (x < 1.0, lambda v: 1.0 - _erf_series(v)),
        # as deep as the fraction needs to converge to float64 where it is slowest
        ((x >= 1.0) & (x < 1.5), lambda v: _erfc_fraction(v, 90)),
        ((x >= 1.5) & (x < 2.5), lambda v: _erfc_fraction(v, 50)),
        ((x >= 2.5) & (x < 5.0), lambda v: _erfc_fraction(v, 30)),
        ((x >= 5.0) & (x < 27.5), lambda v: _erfc_fraction(v, 15)),
        (x >= 27.5, np.zeros_like),                    # below the smallest float
    ]) if x.size else x.copy()


def _erf(x: np.ndarray) -> np.ndarray:
    a = np.abs(x)
    small = a < 1.0
    large = ~small                       # NaN too: erfc passes it through
    out = np.empty_like(x)
    out[small] = _erf_series(x[small])
    out[large] = np.sign(x[large]) * (1.0 - _erfc_positive(a[large]))
    return out


def _erfc(x: np.ndarray) -> np.ndarray:
    positive = _erfc_positive(np.abs(x))
    return np.where(x < 0, 2.0 - positive, positive)


erf_p = unary("erf", _float_impl(_erf),
              lambda g, ans, x: mul(g, mul(2.0 / _SQRT_PI, exp_p.bind(neg(mul(x, x))))),
              residuals="operands")
erfc_p = unary("erfc", _float_impl(_erfc),
               lambda g, ans, x: mul(g, mul(-2.0 / _SQRT_PI, exp_p.bind(neg(mul(x, x))))),
               residuals="operands")


# ----- erf_inv -----------------------------------------------------------------------------

def _erf_inv(y: np.ndarray) -> np.ndarray:
    # A first guess good to ~2e-3 (Winitzki's closed form), then Halley's
    # iteration on erf(x) - y, cubically convergent: three steps reach float64.
    # Past |y| = 0.5 the residual is taken as (1 - |y|) - erfc(|x|), both exact
    # or accurate where erf(x) - y would be all rounding.
    a = np.abs(y)
    one_minus = 1.0 - a                                  # exact for a >= 0.5
    log_term = np.log(one_minus * (1.0 + a))
    c = 2.0 / (math.pi * 0.147) + 0.5 * log_term
    x = np.sqrt(np.maximum(np.sqrt(c * c - log_term / 0.147) - c, 0.0))
    tail = a > 0.5
    body = ~tail
    residual = np.empty_like(x)
    for _ in range(3):
        residual[tail] = one_minus[tail] - _erfc(x[tail])
        residual[body] = _erf(x[body]) - a[body]
        slope = 2.0 / _SQRT_PI * _exp_minus_square(x)
        step = residual / slope
        x = x - step / (1.0 + x * step)
    x = np.where(a < 1.0, x, np.where(a == 1.0, np.inf, np.nan))
    return np.copysign(x, y)


erf_inv_p = unary("erf_inv", _float_impl(_erf_inv),
                  lambda g, ans, x: mul(g, mul(_SQRT_PI / 2.0, exp_p.bind(mul(ans, ans)))),
                  residuals="ans")


# ----- lgamma and digamma ---------------------------------------------------------------

def _zeta_minus_one(k: int) -> float:
    """zeta(k) - 1 for an integer k >= 2, to float64 precision (Euler-Maclaurin from 20 on)."""
    n = 20
    direct = math.fsum(j ** -k for j in range(2, n))
    tail = n ** (1 - k) / (k - 1) + 0.5 * n ** -k
    rising, fact = float(k), 2.0
    for j, b in enumerate(_BERNOULLI[:6], start=1):
        tail += b / fact * rising * n ** (-k - 2 * j + 1)
        rising *= (k + 2 * j - 1) * (k + 2 * j)
        fact *= (2 * j + 1) * (2 * j + 2)
    return direct + tail


_TERMS = 56
_ZETA1 = [0.0, 0.0] + [_zeta_minus_one(k) for k in range(2, _TERMS + 1)]
# lgamma(1 + z) = -gamma z + sum_k (-1)^k zeta(k)/k z^k and lgamma(2 + z) = (1 - gamma) z
# + sum_k (-1)^k (zeta(k) - 1)/k z^k, for |z| < 1; their derivatives are digamma's series.
_AT_ONE = [(-1) ** k * (1.0 + _ZETA1[k]) for k in range(_TERMS + 1)]
_AT_TWO = [(-1) ** k * _ZETA1[k] for k in range(_TERMS + 1)]


def _lgamma_series(z: np.ndarray, coefs: list, first: float, terms: int) -> np.ndarray:
    total = np.zeros_like(z)
    for k in range(terms, 1, -1):
        total = (total + coefs[k] / k) * z
    return (total + first) * z


def _digamma_series(z: np.ndarray, coefs: list, first: float, terms: int) -> np.ndarray:
    total = np.zeros_like(z)
    for k in range(terms, 1, -1):
        total = total * z + coefs[k]
    return total * z + first


def _shift_down(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(z, n)`` with ``z = x - n`` in [1.5, 2.5) for 2.5 <= x < 10."""
    n = np.floor(x - 1.5)
    return x - n, n


def _lgamma_positive(x: np.ndarray) -> np.ndarray:
    def mid(v):
        z, n = _shift_down(v)
        product = np.ones_like(v)
        for k in range(1, 9):               # (x-1)(x-2)...(x-n), at most 8 factors
            product *= np.where(k <= n, v - k, 1.0)
        return _lgamma_series(z - 2.0, _AT_TWO, 1.0 - _EULER, 30) + np.log(product)

    def stirling(v):
        inv, inv2 = 1.0 / v, 1.0 / (v * v)
        series = np.zeros_like(v)
        for k in range(8, 0, -1):
            series = series * inv2 + _BERNOULLI[k - 1] / (2 * k * (2 * k - 1))
        return (v - 0.5) * np.log(v) - v + _HALF_LOG_2PI + series * inv

    return _by_region(x, [
        (x < 0.5, lambda v: _lgamma_series(v, _AT_ONE, -_EULER, _TERMS) - np.log(v)),
        ((x >= 0.5) & (x < 1.5), lambda v: _lgamma_series(v - 1.0, _AT_ONE, -_EULER, _TERMS)),
        ((x >= 1.5) & (x < 2.5), lambda v: _lgamma_series(v - 2.0, _AT_TWO, 1.0 - _EULER, 30)),
        ((x >= 2.5) & (x < 10.0), mid),
        (x >= 10.0, stirling),
    ])


def _sin_pi(x: np.ndarray) -> np.ndarray:
    """sin(pi x), exact in the reduction: x - round(x) loses nothing."""
    r = x - np.round(x)
    return np.sin(math.pi * r) * np.where(np.round(x) % 2 == 0, 1.0, -1.0)


def _lgamma(x: np.ndarray) -> np.ndarray:
    # log|Gamma(x)|; reflected for x < 0: Gamma(x) Gamma(1 - x) = pi / sin(pi x).
    negative = x < 0
    out = _lgamma_positive(np.where(negative, 1.0 - x, x))
    reflected = _LOG_PI - np.log(np.abs(_sin_pi(x))) - out
    out = np.where(negative, reflected, out)
    pole = (x <= 0) & (x == np.floor(x))
    return np.where(pole | np.isinf(x), np.inf, out)


def _digamma_positive(x: np.ndarray) -> np.ndarray:
    def mid(v):
        z, n = _shift_down(v)
        total = _digamma_series(z - 2.0, _AT_TWO, 1.0 - _EULER, 30)
        for k in range(1, 9):
            total += np.where(k <= n, 1.0 / (v - k), 0.0)
        return total

    def asymptotic(v):
        inv2 = 1.0 / (v * v)
        series = np.zeros_like(v)
        for k in range(8, 0, -1):
            series = series * inv2 + _BERNOULLI[k - 1] / (2 * k)
        return np.log(v) - 0.5 / v - series * inv2

    return _by_region(x, [
        (x < 0.5, lambda v: _digamma_series(v, _AT_ONE, -_EULER, _TERMS) - 1.0 / v),
        ((x >= 0.5) & (x < 1.5), lambda v: _digamma_series(v - 1.0, _AT_ONE, -_EULER, _TERMS)),
        ((x >= 1.5) & (x < 2.5), lambda v: _digamma_series(v - 2.0, _AT_TWO, 1.0 - _EULER, 30)),
        ((x >= 2.5) & (x < 10.0), mid),
        (x >= 10.0, asymptotic),
    ])


def _digamma(x: np.ndarray) -> np.ndarray:
    # Reflected for x < 0: psi(x) = psi(1 - x) - pi cot(pi x); NaN at the poles, as in JAX.
    negative = x < 0
    out = _digamma_positive(np.where(negative, 1.0 - x, x))
    r = x - np.round(x)
    out = np.where(negative, out - math.pi / np.tan(math.pi * r), out)
    pole = (x <= 0) & (x == np.floor(x))
    return np.where(pole, np.nan, np.where(x == np.inf, np.inf, out))


# ----- polygamma -------------------------------------------------------------------------

_FACTORIALS = np.array([float(math.factorial(k)) for k in range(171)])


def _hurwitz_zeta(s: np.ndarray, q: np.ndarray) -> np.ndarray:
    """sum_k (q + k)^-s for q > 0 and s >= 2: 12 terms, then Euler-Maclaurin."""
    total = np.zeros_like(q)
    for k in range(12):
        total += (q + k) ** -s
    a = q + 12.0
    tail = a ** (1.0 - s) / (s - 1.0) + 0.5 * a ** -s
    rising, fact, power = s.copy(), 2.0, a ** (-s - 1.0)
    for j, b in enumerate(_BERNOULLI, start=1):
        tail += b / fact * rising * power
        rising *= (s + 2 * j - 1) * (s + 2 * j)
        fact *= (2 * j + 1) * (2 * j + 2)
        power /= a * a
    return total + tail


def _cot_derivative(n: int) -> list[int]:
    """Coefficients (lowest first) of P with d^n/dt^n cot(t) = P(cot t)."""
    poly = [0, 1]
    for _ in range(n):
        deriv = [k * c for k, c in enumerate(poly)][1:]           # P'
        nxt = [0] * (len(deriv) + 2)
        for k, c in enumerate(deriv):                             # -(1 + c^2) P'
            nxt[k] -= c
            nxt[k + 2] -= c
        poly = nxt
    return poly


def _polygamma_positive_order(n: np.ndarray, x: np.ndarray) -> np.ndarray:
    """psi^(n)(x) for whole n >= 1: (-1)^(n+1) n! zeta(n + 1, x); reflected for x < 0."""
    negative = x < 0
    q = np.where(negative, 1.0 - x, x)
    sign = np.where(n % 2 == 1, 1.0, -1.0)
    out = sign * _FACTORIALS[np.minimum(n, 170).astype(np.int64)] * _hurwitz_zeta(n + 1.0, q)
    out = np.where(n > 170, np.nan, out)
    if negative.any():
        # psi^(n)(x) = (-1)^n psi^(n)(1 - x) - pi d^n/dx^n cot(pi x), one order at a time.
        cot = 1.0 / np.tan(math.pi * (x - np.round(x)))
        for order in np.unique(n[negative]):
            here = negative & (n == order)
            coefs = _cot_derivative(int(order))
            poly = np.zeros_like(cot[here])
            for c in reversed(coefs):
                poly = poly * cot[here] + float(c)
            flip = 1.0 if order % 2 == 0 else -1.0
            out[here] = flip * out[here] - math.pi ** (order + 1) * poly
    return out


def _polygamma_impl(m, x):
    m_dtype, x_dtype = np.result_type(m), np.result_type(x)
    floats = [d for d in (m_dtype, x_dtype) if d.kind == "f"]
    dtype = np.result_type(*floats) if floats else np.dtype(np.float64)
    if m_dtype.kind == "f" and x_dtype.kind == "f" and type(m) in (float, int):
        dtype = x_dtype                       # a Python number takes the array's type
    with np.errstate(all="ignore"):
        mm, xx = np.broadcast_arrays(np.asarray(m, np.float64), np.asarray(x, np.float64))
        whole = (mm >= 0) & (mm == np.floor(mm))
        n = np.where(whole & (mm >= 1), mm, 1.0)
        out = np.where(mm == 0, _digamma(xx), _polygamma_positive_order(n, xx))
        pole = (xx <= 0) & (xx == np.floor(xx))
        out = np.where(pole & (mm >= 1), np.nan, out)
        out = np.where(whole, out, np.nan).astype(dtype, copy=False)
    return out[()] if out.ndim == 0 else out


lgamma_p = unary("lgamma", _float_impl(_lgamma), lambda g, ans, x: mul(g, digamma(x)),
                 residuals="operands")
digamma_p = unary("digamma", _float_impl(_digamma),
                  lambda g, ans, x: mul(g, polygamma(1.0, x)), residuals="operands")

ELEMENTWISE_ARITY["polygamma"] = 2
# No derivative in the order m (it is a whole number), as in JAX.
polygamma_p: Primitive = _register(Primitive(
    "polygamma", _polygamma_impl, _ELEMENTWISE_AVAL,
    vjp_args=(None, lambda g, ans, m, x: mul(g, polygamma(add(m, 1.0), x))),
    jvp=lambda primals, tangents, ans: None if tangents[1] is None else _fit_tangent(
        mul(tangents[1], polygamma(add(primals[0], 1.0), primals[1])), ans),
    batch=PerPrimitive(batch_elementwise), may_alias=False, layout="operands",
    residuals="operands"))


# ----- The functions rules are written with (thin binds) ------------------------------------

def erf(x): return erf_p.bind(x)
def erfc(x): return erfc_p.bind(x)
def erf_inv(x): return erf_inv_p.bind(x)
def lgamma(x): return lgamma_p.bind(x)
def digamma(x): return digamma_p.bind(x)
def polygamma(m, x): return polygamma_p.bind(m, x)
