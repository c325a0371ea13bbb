"""The Cauchy distribution, as ``jax.scipy.stats.cauchy``.

>>> from nanojax.scipy.stats import cauchy
>>> print(float(cauchy.cdf(1.0)), round(float(cauchy.ppf(0.75)), 12))
0.75 1.0
"""

from __future__ import annotations

from typing import Any

import math

import numpy as np

import nanojax.numpy as jnp
from nanojax.scipy.stats._common import promote, standardize

__all__ = ["cdf", "isf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf"]


def logpdf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``-log(pi scale (1 + z^2))``."""
    z, scale = standardize("stats.cauchy.logpdf", x, loc, scale)
    return -math.log(math.pi) - jnp.log(scale) - jnp.log1p(z * z)


def pdf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """The density (``exp(logpdf)``)."""
    return jnp.exp(logpdf(x, loc, scale))


def cdf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``1/2 + arctan(z) / pi``."""
    z, _ = standardize("stats.cauchy.cdf", x, loc, scale)
    return 0.5 + jnp.arctan(z) / np.pi


def logcdf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``log(cdf)``."""
    return jnp.log(cdf(x, loc, scale))


def sf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``cdf(-z)``: ``1/2 - arctan(z) / pi``."""
    z, _ = standardize("stats.cauchy.sf", x, loc, scale)
    return 0.5 - jnp.arctan(z) / np.pi


def logsf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``log(sf)``."""
    return jnp.log(sf(x, loc, scale))


def ppf(q: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``loc + scale tan(pi (q - 1/2))``."""
    q, loc, scale = promote("stats.cauchy.ppf", q, loc, scale)
    return loc + scale * jnp.tan(np.pi * (q - 0.5))


def isf(q: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``loc + scale tan(pi (1/2 - q))``."""
    q, loc, scale = promote("stats.cauchy.isf", q, loc, scale)
    return loc + scale * jnp.tan(np.pi * (0.5 - q))
