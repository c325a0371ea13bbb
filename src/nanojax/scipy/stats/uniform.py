"""The uniform distribution on ``[loc, loc + scale]``, as ``jax.scipy.stats.uniform``.

>>> from nanojax.scipy.stats import uniform
>>> print(uniform.pdf(0.5, 0.0, 2.0), uniform.logpdf(3.0, 0.0, 2.0))
0.5 -inf
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax.scipy.stats._common import promote

__all__ = ["cdf", "logpdf", "pdf", "ppf"]


def logpdf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``-log(scale)`` inside ``[loc, loc + scale]``, ``-inf`` outside."""
    x, loc, scale = promote("stats.uniform.logpdf", x, loc, scale)
    outside = jnp.logical_or(x < loc, x > loc + scale)
    return jnp.where(outside, -np.inf, -jnp.log(scale) + jnp.zeros_like(x))


def pdf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """The density (``exp(logpdf)``)."""
    return jnp.exp(logpdf(x, loc, scale))


def cdf(x: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``(x - loc) / scale``, clipped to ``[0, 1]``."""
    x, loc, scale = promote("stats.uniform.cdf", x, loc, scale)
    return jnp.clip((x - loc) / scale, 0.0, 1.0)


def ppf(q: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``loc + q scale`` for ``q`` in ``[0, 1]``, NaN outside."""
    q, loc, scale = promote("stats.uniform.ppf", q, loc, scale)
    return jnp.where(jnp.logical_or(q < 0, q > 1), np.nan, loc + q * scale)
