"""``nanojax.scipy.special``: SciPy's special functions, as ``jax.scipy.special``.

The error and gamma families are primitives (``nanojax.primitives.special``,
NumPy-only series and continued fractions, accurate to about 1e-15); the rest
is written on them and on ``jnp``, so everything here differentiates, batches
and stages. Integer arguments are taken as float64, as SciPy and JAX do.

Examples:
    >>> import numpy as np
    >>> import nanojax as nj
    >>> from nanojax.scipy import special
    >>> print(f"{float(special.erfc(10.0)):.6e}")
    2.088488e-45
    >>> print(f"{float(special.gammaln(0.5)):.15f}")          # log(sqrt(pi))
    0.572364942924700
    >>> print(float(nj.grad(special.gammaln)(1.0)))     # digamma(1) = -Euler's gamma
    -0.5772156649015329
    >>> special.logsumexp(np.array([1.0, 2.0]), b=np.array([1.0, -1.0]), return_sign=True)
    (np.float64(1.5413248546129181), np.float64(-1.0))
"""

from __future__ import annotations

from typing import Any

import math

import numpy as np

import nanojax.numpy as jnp
from nanojax import nn
from nanojax import primitives as P
from nanojax.numpy import _args

__all__ = ["betainc", "betaln", "digamma", "entr", "erf", "erfc", "erfinv", "expit", "gamma",
           "gammainc", "gammaincc", "gammaln", "i0", "i0e", "i1", "i1e", "log_ndtr",
           "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri", "polygamma",
           "softmax", "xlog1py", "xlogy"]


def _inexact(name: str, x: Any) -> Any:
    """``x`` as a float operand: integers and booleans become float64, as in SciPy."""
    x = _args.operand(x, f"scipy.special.{name}")
    kind = P.dtype_of(x).kind
    if kind == "c":
        raise TypeError(f"nanojax.scipy.special.{name}: complex arguments are not supported")
    if kind != "f":
        x = jnp.astype(x, np.float64)
    return x


def _unary(name: str, prim: Any, doc: str) -> Any:
    def fn(x: Any) -> Any:
        return prim.bind(_inexact(name, x))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


erf = _unary("erf", P.erf_p, "The error function, 2/sqrt(pi) times the integral of exp(-t^2).")
erfc = _unary("erfc", P.erfc_p, "``1 - erf(x)``, accurate far into the tail (erfc(26) ~ 6e-296).")
erfinv = _unary("erfinv", P.erf_inv_p, "The inverse of ``erf`` on [-1, 1] (+-inf at +-1).")
gammaln = _unary("gammaln", P.lgamma_p, "``log|Gamma(x)|`` (inf at 0, -1, -2, ...).")
digamma = _unary("digamma", P.digamma_p, "``psi(x)``, the derivative of ``gammaln`` "
                 "(NaN at 0, -1, -2, ...).")


def polygamma(n: Any, x: Any) -> Any:
    """``psi^(n)(x)``, the n-th derivative of ``digamma``; ``n`` must be integers."""
    if P.dtype_of(_args.operand(n, "scipy.special.polygamma")).kind not in "iu":
        raise TypeError("nanojax.scipy.special.polygamma: n must be of integer type, got "
                        f"{P.dtype_of(n)}")
    return P.polygamma(n, _inexact("polygamma", x))


def gamma(x: Any) -> Any:
    """``Gamma(x)``, as ``sign * exp(gammaln(x))`` (about 1e-13 relative for large x)."""
    x = _inexact("gamma", x)
    # Gamma is negative on (-1, 0), (-3, -2), ...: where floor(x) is odd.
    sign = jnp.where(jnp.logical_or(x > 0, jnp.remainder(jnp.floor(x), 2.0) == 0), 1.0, -1.0)
    return sign * jnp.exp(gammaln(x))


def betaln(a: Any, b: Any) -> Any:
    """``log|B(a, b)|`` = gammaln(a) + gammaln(b) - gammaln(a + b)."""
    a, b = _inexact("betaln", a), _inexact("betaln", b)
    return gammaln(a) + gammaln(b) - gammaln(a + b)


def expit(x: Any) -> Any:
    """The logistic sigmoid ``1 / (1 + exp(-x))``."""
    return nn.sigmoid(_inexact("expit", x))


def logit(p: Any) -> Any:
    """``log(p / (1 - p))``, the inverse of ``expit``."""
    p = _inexact("logit", p)
    return jnp.log(p) - jnp.log1p(-p)


def xlogy(x: Any, y: Any) -> Any:
    """``x * log(y)``, taken as 0 where ``x == 0`` (its gradient too, even at y = 0)."""
    x, y = _inexact("xlogy", x), _inexact("xlogy", y)
    zero = x == 0
    return jnp.where(zero, 0.0, x * jnp.log(jnp.where(zero, 1.0, y)))


def xlog1py(x: Any, y: Any) -> Any:
    """``x * log1p(y)``, taken as 0 where ``x == 0``."""
    x, y = _inexact("xlog1py", x), _inexact("xlog1py", y)
    zero = x == 0
    return jnp.where(zero, 0.0, x * jnp.log1p(jnp.where(zero, 0.0, y)))


def entr(x: Any) -> Any:
    """``-x log(x)`` for x > 0, 0 at 0, -inf below."""
    x = _inexact("entr", x)
    below = x < 0
    safe = jnp.where(below, 1.0, x)            # no log of a negative, in value or gradient
    return jnp.where(below, -np.inf, -xlogy(safe, safe))


def logsumexp(a: Any, axis: Any = None, b: Any = None, keepdims: bool = False,
              return_sign: bool = False) -> Any:
    """``log(sum(b * exp(a)))`` over ``axis``, shifted by the max for stability.

    With ``return_sign`` it returns ``(log|sum|, sign(sum))``; without, a negative
    sum gives NaN, as in JAX.
    """
    a = _inexact("logsumexp", a)
    if b is None and not return_sign:
        return nn.logsumexp(a, axis=axis, keepdims=keepdims)
    if b is None:
        b = 1.0
    b = _inexact("logsumexp", b)
    shift = jnp.stop_gradient(jnp.max(a + jnp.zeros_like(b), axis=axis, keepdims=True))
    shift = jnp.where(jnp.isfinite(shift), shift, 0.0)
    total = jnp.sum(b * jnp.exp(a - shift), axis=axis, keepdims=True)
    sign = jnp.sign(total)
    out = jnp.log(jnp.abs(total)) + shift
    if not return_sign:
        out = jnp.where(sign < 0, np.nan, out)
    if not keepdims:
        out, sign = jnp.squeeze(out, axis), jnp.squeeze(sign, axis)
    out, sign = _scalar(out), _scalar(sign)
    return (out, sign) if return_sign else out


def _scalar(x: Any) -> Any:
    # A full reduction outside a transformation gives a NumPy scalar, as in NumPy.
    return x[()] if isinstance(x, np.ndarray) and x.ndim == 0 else x


def softmax(x: Any, axis: Any = None) -> Any:
    """``exp(x) / sum(exp(x))`` over ``axis`` (all axes when None, as in SciPy)."""
    return nn.softmax(_inexact("softmax", x), axis=axis)


def log_softmax(x: Any, axis: Any = None) -> Any:
    """``x - logsumexp(x)`` over ``axis`` (all axes when None, as in SciPy)."""
    return nn.log_softmax(_inexact("log_softmax", x), axis=axis)




# ----- The normal distribution's functions ---------------------------------------------

_SQRT_HALF = float(np.sqrt(0.5))
_HALF_LOG_2PI = float(0.5 * np.log(2.0 * np.pi))


def ndtr(x: Any) -> Any:
    """The standard normal CDF, ``erfc(-x / sqrt(2)) / 2`` (accurate in the lower tail).

    >>> print(f"{float(ndtr(-10.0)):.6e}")
    7.619853e-24
    """
    x = _inexact("ndtr", x)
    return 0.5 * P.erfc_p.bind(-x * _SQRT_HALF)


def log_ndtr(x: Any) -> Any:
    """``log(ndtr(x))``, accurate far into both tails.

    Below -20 it is the asymptotic series ``-x^2/2 - log(-x) - log(2 pi)/2 +
    log(1 - 1/x^2 + 3/x^4 - ...)``, where ``ndtr`` itself underflows; above 6,
    ``-ndtr(-x)`` (``log1p`` of a tiny number).

    >>> print(f"{float(log_ndtr(-40.0)):.10f}")
    -804.6084420138
    """
    x = _inexact("log_ndtr", x)
    low, high = -20.0, 6.0
    # Each branch sees an argument inside its own region, so no branch makes an
    # inf or NaN whose zero gradient would turn into NaN.
    # (where, not clip: clip would split the gradient in half at a boundary).
    below, above = x < low, x > high
    middle = jnp.log(ndtr(jnp.where(below, low, jnp.where(above, high, x))))
    upper = -ndtr(-jnp.where(above, x, high))
    lo_x = jnp.where(below, x, low)
    inv2 = 1.0 / (lo_x * lo_x)
    series, term = 1.0, 1.0
    for k in range(1, 11):            # (2k-1)!! / x^2k: below 1e-17 at x = -20 by k = 10
        term = -term * (2 * k - 1) * inv2
        series = series + term
    lower = -0.5 * lo_x * lo_x - jnp.log(-lo_x) - _HALF_LOG_2PI + jnp.log(series)
    return jnp.where(above, upper, jnp.where(below, lower, middle))


def _ndtri_lower(q: Any) -> Any:
    """The quantile of ``q`` in (0, 1/2], by Newton steps on ``log_ndtr``."""
    tiny = q < 1e-10
    safe = jnp.where(tiny, 0.25, q)
    start = math.sqrt(2.0) * P.erf_inv_p.bind(2.0 * safe - 1.0)
    t = -2.0 * jnp.log(jnp.where(tiny, q, 1e-10))
    # The tail's leading terms: ndtr(x) ~ exp(-x^2/2) / (-x sqrt(2 pi)).
    tail = -jnp.sqrt(t - jnp.log(t) - math.log(2.0 * math.pi))
    x = jnp.where(tiny, tail, start)
    log_q = jnp.log(q)
    for _ in range(3):       # quadratic convergence: erf_inv's start is already close
        # f(x) = log_ndtr(x) - log q; f'(x) = pdf(x) / ndtr(x).
        log_cdf = log_ndtr(x)
        x = x - (log_cdf - log_q) * jnp.exp(log_cdf + 0.5 * x * x + _HALF_LOG_2PI)
    return x


def _ndtri_impl(p: Any) -> Any:
    upper = p > 0.5
    q = jnp.where(upper, 1.0 - p, p)
    inside = jnp.logical_and(q > 0, q <= 0.5)
    x = _ndtri_lower(jnp.where(inside, q, 0.25))
    x = jnp.where(q == 0, -np.inf, jnp.where(inside, x, np.nan))
    x = jnp.where(jnp.logical_or(p < 0, p > 1), np.nan, x)
    return jnp.where(upper, -x, x)


def _make_ndtri() -> Any:
    from nanojax.custom import custom_jvp

    @custom_jvp
    def ndtri_(p: Any) -> Any:
        return _ndtri_impl(p)

    @ndtri_.defjvp
    def _(primals: Any, tangents: Any) -> Any:
        (p,), (dp,) = primals, tangents
        x = ndtri_(p)
        # d ndtri / dp = 1 / pdf(ndtri(p)) = sqrt(2 pi) exp(x^2 / 2).
        return x, dp * jnp.exp(0.5 * x * x + _HALF_LOG_2PI)
    return ndtri_


_ndtri = _make_ndtri()


def ndtri(p: Any) -> Any:
    """The inverse of ``ndtr``: the standard normal quantile of ``p`` in [0, 1].

    It is -inf at 0 and inf at 1, NaN outside; relative accuracy about 1e-15,
    even for ``p`` as small as 1e-300.

    >>> print(f"{float(ndtri(0.975)):.12f}")
    1.959963984540
    """
    return _ndtri(_inexact("ndtri", p))


# ----- Bessel functions of order 0 and 1 ------------------------------------------------

def i0e(x: Any) -> Any:
    """``exp(-|x|) I0(x)``, the exponentially scaled modified Bessel function of order 0.

    >>> print(f"{float(i0e(1.0)):.15f}")
    0.465759607593640
    """
    return P.bessel_i0e_p.bind(_inexact("i0e", x))


def i1e(x: Any) -> Any:
    """``exp(-|x|) I1(x)``, the exponentially scaled modified Bessel function of order 1."""
    return P.bessel_i1e_p.bind(_inexact("i1e", x))


def i0(x: Any) -> Any:
    """``I0(x)``, the modified Bessel function of order 0 (``exp(|x|) i0e(x)``)."""
    x = _inexact("i0", x)
    return jnp.exp(jnp.abs(x)) * P.bessel_i0e_p.bind(x)


def i1(x: Any) -> Any:
    """``I1(x)``, the modified Bessel function of order 1 (``exp(|x|) i1e(x)``)."""
    x = _inexact("i1", x)
    return jnp.exp(jnp.abs(x)) * P.bessel_i1e_p.bind(x)


# ----- Gamma functions of several arguments ---------------------------------------------

def multigammaln(a: Any, d: int) -> Any:
    """The log of the multivariate gamma function of dimension ``d``:
    ``d (d-1)/4 log(pi) + sum_j gammaln(a - j/2)`` for ``j < d``.

    >>> print(f"{float(multigammaln(3.0, 1)):.12f}")     # gammaln(3) = log 2
    0.693147180560
    """
    if not _args.is_int(d) or int(d) < 1:
        raise ValueError(f"nanojax.scipy.special.multigammaln: d must be a positive int, "
                         f"got {d!r:.50}")
    a = _inexact("multigammaln", a)
    d = int(d)
    total = 0.25 * d * (d - 1) * math.log(math.pi)
    for j in range(d):
        total = total + gammaln(a - 0.5 * j)
    return total


def gammainc(a: Any, x: Any) -> Any:
    """The regularized lower incomplete gamma function ``P(a, x)``, for a > 0, x >= 0.

    Differentiable in ``x`` (not in ``a``: that raises). NaN outside the domain.

    >>> print(f"{float(gammainc(1.0, 2.0)):.15f}")        # 1 - exp(-2)
    0.864664716763387
    """
    return P.igamma_p.bind(_inexact("gammainc", a), _inexact("gammainc", x))


def gammaincc(a: Any, x: Any) -> Any:
    """The regularized upper incomplete gamma function ``Q(a, x) = 1 - P(a, x)``."""
    return P.igammac_p.bind(_inexact("gammaincc", a), _inexact("gammaincc", x))


def betainc(a: Any, b: Any, x: Any) -> Any:
    """The regularized incomplete beta function ``I_x(a, b)``, for a, b > 0 and x in [0, 1]
    (NaN outside). Differentiable in all three (in ``a`` and ``b`` by extrapolated
    differences, about 1e-10 relative).

    >>> print(f"{float(betainc(2.0, 3.0, 0.4)):.15f}")     # 1 - 0.6^4 - 4 (0.4) 0.6^3
    0.524800000000000
    """
    return P.betainc_p.bind(_inexact("betainc", a), _inexact("betainc", b),
                            _inexact("betainc", x))


from nanojax.array import export as _export_arrays  # noqa: E402

_export_arrays(globals())   # the public face hands out arrays with JAX's methods
