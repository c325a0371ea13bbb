"""The exponential distribution, as ``jax.scipy.stats.expon``.

>>> from nanojax.scipy.stats import expon
>>> print(float(expon.logpdf(2.0)), float(expon.sf(2.0, scale=2.0)) == float(np.exp(-1.0)))
-2.0 True
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax.scipy.stats._common import promote, standardize

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf"]


def logpdf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``-z - log(scale)`` for ``z >= 0``, ``-inf`` below."""
    z, scale = standardize("stats.expon.logpdf", x, loc, scale)
    return jnp.where(z < 0, -np.inf, -z - jnp.log(scale))


def pdf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """The density (``exp(logpdf)``)."""
    return jnp.exp(logpdf(x, loc, scale))


def cdf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``1 - exp(-z)`` (``-expm1(-z)``), 0 below ``loc``."""
    z, _ = standardize("stats.expon.cdf", x, loc, scale)
    return -jnp.expm1(-jnp.maximum(z, 0.0))


def logcdf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``log(cdf)``."""
    return jnp.log(cdf(x, loc, scale))


def sf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``exp(-z)``, 1 below ``loc``."""
    return jnp.exp(logsf(x, loc, scale))


def logsf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``-z``, 0 below ``loc``."""
    z, _ = standardize("stats.expon.logsf", x, loc, scale)
    return -jnp.maximum(z, 0.0)


def ppf(q: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``loc - scale log1p(-q)``, NaN outside ``[0, 1]``."""
    q, loc, scale = promote("stats.expon.ppf", q, loc, scale)
    return jnp.where(jnp.logical_or(q < 0, q > 1), np.nan, loc - scale * jnp.log1p(-q))
