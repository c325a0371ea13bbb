"""The normal distribution, as ``jax.scipy.stats.norm``.

>>> from nanojax.scipy.stats import norm
>>> print(f"{float(norm.cdf(1.96)):.6f}")
0.975002
>>> print(f"{float(norm.logsf(40.0)):.4f}")
-804.6084
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax.scipy import special
from nanojax.scipy.stats._common import promote, standardize

__all__ = ["cdf", "isf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf"]

_HALF_LOG_2PI = float(0.5 * np.log(2.0 * np.pi))


def logpdf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``log`` of the density ``exp(-z^2/2) / (scale sqrt(2 pi))``, ``z = (x - loc) / scale``."""
    z, scale = standardize("stats.norm.logpdf", x, loc, scale)
    return -0.5 * z * z - jnp.log(scale) - _HALF_LOG_2PI


def pdf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """The density (``exp(logpdf)``)."""
    return jnp.exp(logpdf(x, loc, scale))


def cdf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``P(X <= x)``, ``ndtr(z)``."""
    z, _ = standardize("stats.norm.cdf", x, loc, scale)
    return special.ndtr(z)


def logcdf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``log P(X <= x)``, accurate far into the lower tail."""
    z, _ = standardize("stats.norm.logcdf", x, loc, scale)
    return special.log_ndtr(z)


def sf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``P(X > x)``, ``ndtr(-z)`` (accurate in the upper tail)."""
    z, _ = standardize("stats.norm.sf", x, loc, scale)
    return special.ndtr(-z)


def logsf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``log P(X > x)``."""
    z, _ = standardize("stats.norm.logsf", x, loc, scale)
    return special.log_ndtr(-z)


def ppf(q: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """The quantile function, the inverse of ``cdf``: ``loc + scale ndtri(q)``."""
    q, loc, scale = promote("stats.norm.ppf", q, loc, scale)
    return loc + scale * special.ndtri(q)


def isf(q: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """The inverse of ``sf``: ``loc - scale ndtri(q)``."""
    q, loc, scale = promote("stats.norm.isf", q, loc, scale)
    return loc - scale * special.ndtri(q)
