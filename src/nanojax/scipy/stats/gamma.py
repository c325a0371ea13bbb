"""The gamma distribution with shape ``a``, as ``jax.scipy.stats.gamma``.

>>> from nanojax.scipy.stats import gamma
>>> print(f"{float(gamma.cdf(2.0, 1.0)):.15f}")        # 1 - exp(-2)
0.864664716763387
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax.scipy import special
from nanojax.scipy.stats._common import promote

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "sf"]


def _std(name: str, x: Any, a: Any, loc: Any, scale: Any) -> tuple:
    x, a, loc, scale = promote(name, x, a, loc, scale)
    return (x - loc) / scale, a, scale


def logpdf(x: Any, a: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``(a - 1) log y - y - gammaln(a) - log(scale)`` for ``y = (x - loc)/scale >= 0``."""
    y, a, scale = _std("stats.gamma.logpdf", x, a, loc, scale)
    neg, zero = y < 0, y == 0
    safe = jnp.where(jnp.logical_or(neg, zero), 1.0, y)
    out = special.xlogy(a - 1.0, safe) - safe - special.gammaln(a) - jnp.log(scale)
    # At y = 0 the density is 0, finite (a = 1) or infinite: said here, not by log(0).
    at_zero = jnp.where(a > 1, -np.inf, jnp.where(a < 1, np.inf,
                                                  -special.gammaln(a) - jnp.log(scale)))
    return jnp.where(neg, -np.inf, jnp.where(zero, at_zero, out))


def pdf(x: Any, a: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """The density (``exp(logpdf)``)."""
    return jnp.exp(logpdf(x, a, loc, scale))


def cdf(x: Any, a: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``gammainc(a, y)``, 0 below ``loc``."""
    y, a, _ = _std("stats.gamma.cdf", x, a, loc, scale)
    return special.gammainc(a, jnp.maximum(y, 0.0))


def logcdf(x: Any, a: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``log(cdf)``."""
    return jnp.log(cdf(x, a, loc, scale))


def sf(x: Any, a: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``gammaincc(a, y)``, 1 below ``loc``."""
    y, a, _ = _std("stats.gamma.sf", x, a, loc, scale)
    return special.gammaincc(a, jnp.maximum(y, 0.0))


def logsf(x: Any, a: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``log(sf)``."""
    return jnp.log(sf(x, a, loc, scale))
