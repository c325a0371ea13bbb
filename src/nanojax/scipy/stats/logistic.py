"""The logistic distribution, as ``jax.scipy.stats.logistic``.

>>> from nanojax.scipy.stats import logistic
>>> print(float(logistic.cdf(0.0)), float(logistic.ppf(0.5)))
0.5 0.0
"""

from __future__ import annotations

from typing import Any

import nanojax.numpy as jnp
from nanojax import nn
from nanojax.scipy import special
from nanojax.scipy.stats._common import promote, standardize

__all__ = ["cdf", "isf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf"]


def logpdf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``-|z| - 2 log1p(exp(-|z|)) - log(scale)`` (the density is even in z)."""
    z, scale = standardize("stats.logistic.logpdf", x, loc, scale)
    a = jnp.abs(z)
    return -a - 2.0 * jnp.log1p(jnp.exp(-a)) - jnp.log(scale)


def pdf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """The density (``exp(logpdf)``)."""
    return jnp.exp(logpdf(x, loc, scale))


def cdf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``expit(z)``."""
    z, _ = standardize("stats.logistic.cdf", x, loc, scale)
    return special.expit(z)


def sf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``expit(-z)``."""
    z, _ = standardize("stats.logistic.sf", x, loc, scale)
    return special.expit(-z)


def logcdf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``-softplus(-z)``."""
    z, _ = standardize("stats.logistic.logcdf", x, loc, scale)
    return -nn.softplus(-z)


def logsf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``-softplus(z)``."""
    z, _ = standardize("stats.logistic.logsf", x, loc, scale)
    return -nn.softplus(z)


def ppf(q: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``loc + scale logit(q)``."""
    q, loc, scale = promote("stats.logistic.ppf", q, loc, scale)
    return loc + scale * special.logit(q)


def isf(q: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``loc - scale logit(q)``."""
    q, loc, scale = promote("stats.logistic.isf", q, loc, scale)
    return loc - scale * special.logit(q)
