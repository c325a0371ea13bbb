"""The beta distribution, as ``jax.scipy.stats.beta``.

>>> from nanojax.scipy.stats import beta
>>> print(f"{float(beta.pdf(0.5, 2.0, 2.0)):.4f}")     # 6 x (1 - x)
1.5000
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax.scipy import special
from nanojax.scipy.stats._common import promote

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "sf"]


def logpdf(x: Any, a: Any, b: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``(a-1) log y + (b-1) log(1-y) - betaln(a, b) - log(scale)`` on ``[0, 1]``, else -inf."""
    x, a, b, loc, scale = promote("stats.beta.logpdf", x, a, b, loc, scale)
    y = (x - loc) / scale
    outside = jnp.logical_or(y < 0, y > 1)
    safe = jnp.where(outside, 0.5, y)
    out = (special.xlogy(a - 1.0, safe) + special.xlog1py(b - 1.0, -safe)
           - special.betaln(a, b) - jnp.log(scale))
    return jnp.where(outside, -np.inf, out)


def pdf(x: Any, a: Any, b: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """The density (``exp(logpdf)``)."""
    return jnp.exp(logpdf(x, a, b, loc, scale))


def cdf(x: Any, a: Any, b: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``betainc(a, b, y)`` for ``y = (x - loc) / scale`` clipped to ``[0, 1]``."""
    x, a, b, loc, scale = promote("stats.beta.cdf", x, a, b, loc, scale)
    return special.betainc(a, b, jnp.clip((x - loc) / scale, 0.0, 1.0))


def logcdf(x: Any, a: Any, b: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``log(cdf)``."""
    return jnp.log(cdf(x, a, b, loc, scale))


def sf(x: Any, a: Any, b: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``betainc(b, a, 1 - y)``: the upper tail without cancellation."""
    x, a, b, loc, scale = promote("stats.beta.sf", x, a, b, loc, scale)
    return special.betainc(b, a, 1.0 - jnp.clip((x - loc) / scale, 0.0, 1.0))


def logsf(x: Any, a: Any, b: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``log(sf)``."""
    return jnp.log(sf(x, a, b, loc, scale))
