"""The chi-squared distribution with ``df`` degrees of freedom, as ``jax.scipy.stats.chi2``.

>>> from nanojax.scipy.stats import chi2
>>> print(f"{float(chi2.sf(3.841458820694124, 1)):.6f}")
0.050000
"""

from __future__ import annotations

from typing import Any

import nanojax.numpy as jnp
from nanojax.scipy.stats import gamma

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "sf"]

# chi2(df) is gamma(df / 2) with scale 2.


def logpdf(x: Any, df: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``gamma.logpdf(x, df/2, loc, 2 scale)``."""
    return gamma.logpdf(x, jnp.multiply(df, 0.5), loc, jnp.multiply(scale, 2.0))


def pdf(x: Any, df: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """The density (``exp(logpdf)``)."""
    return jnp.exp(logpdf(x, df, loc, scale))


def cdf(x: Any, df: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``gammainc(df/2, y/2)``."""
    return gamma.cdf(x, jnp.multiply(df, 0.5), loc, jnp.multiply(scale, 2.0))


def logcdf(x: Any, df: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``log(cdf)``."""
    return jnp.log(cdf(x, df, loc, scale))


def sf(x: Any, df: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``gammaincc(df/2, y/2)``."""
    return gamma.sf(x, jnp.multiply(df, 0.5), loc, jnp.multiply(scale, 2.0))


def logsf(x: Any, df: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``log(sf)``."""
    return jnp.log(sf(x, df, loc, scale))
