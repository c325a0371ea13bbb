"""The Laplace distribution, as ``jax.scipy.stats.laplace``.

>>> from nanojax.scipy.stats import laplace
>>> print(float(laplace.cdf(0.0)), float(laplace.pdf(0.0)))
0.5 0.5
"""

from __future__ import annotations

from typing import Any

import math


import nanojax.numpy as jnp
from nanojax.scipy.stats._common import standardize

__all__ = ["cdf", "logpdf", "pdf"]


def logpdf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``-|z| - log(2 scale)``."""
    z, scale = standardize("stats.laplace.logpdf", x, loc, scale)
    return -jnp.abs(z) - jnp.log(scale) - math.log(2.0)


def pdf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """The density (``exp(logpdf)``)."""
    return jnp.exp(logpdf(x, loc, scale))


def cdf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``exp(z)/2`` below ``loc``, ``1 - exp(-z)/2`` above."""
    z, _ = standardize("stats.laplace.cdf", x, loc, scale)
    neg = z < 0
    return jnp.where(neg, 0.5 * jnp.exp(jnp.where(neg, z, 0.0)),
                     1.0 - 0.5 * jnp.exp(-jnp.where(neg, 0.0, z)))
