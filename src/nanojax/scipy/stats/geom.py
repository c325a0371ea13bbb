"""The geometric distribution (the trial ``k >= 1`` of the first success), as
``jax.scipy.stats.geom``.

>>> from nanojax.scipy.stats import geom
>>> print(f"{float(geom.pmf(2, 0.25)):.6f}")            # 0.75 * 0.25
0.187500
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax.scipy import special
from nanojax.scipy.stats._common import promote

__all__ = ["logpmf", "pmf"]


def logpmf(k: Any, p: Any, loc: Any = 0) -> Any:
    """``(x - 1) log(1 - p) + log p`` for ``x = k - loc >= 1``, ``-inf`` below."""
    k, p, loc = promote("stats.geom.logpmf", k, p, loc)
    x = k - loc
    low = x < 1
    out = special.xlog1py(jnp.where(low, 1.0, x) - 1.0, -p) + jnp.log(p)
    return jnp.where(low, -np.inf, out)


def pmf(k: Any, p: Any, loc: Any = 0) -> Any:
    """The mass (``exp(logpmf)``)."""
    return jnp.exp(logpmf(k, p, loc))
