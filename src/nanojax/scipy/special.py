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

import numpy as np

import nanojax.numpy as jnp
from nanojax import nn
from nanojax import primitives as P
from nanojax.numpy import _args

__all__ = ["betaln", "digamma", "entr", "erf", "erfc", "erfinv", "expit", "gamma", "gammaln",
           "log_softmax", "logit", "logsumexp", "polygamma", "softmax", "xlog1py", "xlogy"]


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


