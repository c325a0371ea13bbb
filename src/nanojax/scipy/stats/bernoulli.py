"""The Bernoulli distribution with success probability ``p``, as
``jax.scipy.stats.bernoulli``.

>>> from nanojax.scipy.stats import bernoulli
>>> print(float(bernoulli.pmf(1, 0.3)), float(bernoulli.cdf(0, 0.3)))
0.3 0.7
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax.scipy import special
from nanojax.scipy.stats._common import promote

__all__ = ["cdf", "logpmf", "pmf", "ppf"]


def logpmf(k: Any, p: Any, loc: Any = 0) -> Any:
    """``log p`` at 1, ``log(1 - p)`` at 0 (``k - loc``), ``-inf`` elsewhere."""
    k, p, loc = promote("stats.bernoulli.logpmf", k, p, loc)
    x = k - loc
    out = special.xlogy(x, p) + special.xlog1py(1.0 - x, -p)
    return jnp.where(jnp.logical_or(x == 0, x == 1), out, -np.inf)


def pmf(k: Any, p: Any, loc: Any = 0) -> Any:
    """The mass (``exp(logpmf)``)."""
    return jnp.exp(logpmf(k, p, loc))


def cdf(k: Any, p: Any, loc: Any = 0) -> Any:
    """0 below 0, ``1 - p`` on ``[0, 1)``, 1 from 1 on; NaN for ``p`` outside ``[0, 1]``."""
    k, p, loc = promote("stats.bernoulli.cdf", k, p, loc)
    x = k - loc
    out = jnp.where(x < 0, 0.0, jnp.where(x < 1, 1.0 - p, 1.0))
    return jnp.where(jnp.logical_or(p < 0, p > 1), np.nan, out)


def ppf(q: Any, p: Any) -> Any:
    """The least ``k`` with ``cdf(k) >= q``: 0 for ``q <= 1 - p``, else 1; NaN outside."""
    q, p = promote("stats.bernoulli.ppf", q, p)
    out = jnp.where(q > 1.0 - p, 1.0, 0.0)
    bad = jnp.logical_or(jnp.logical_or(q < 0, q > 1), jnp.logical_or(p < 0, p > 1))
    return jnp.where(bad, np.nan, out)
