"""The Poisson distribution with mean ``mu``, as ``jax.scipy.stats.poisson``.

>>> from nanojax.scipy.stats import poisson
>>> print(f"{float(poisson.pmf(2, 3.0)):.6f}")          # 9 exp(-3) / 2
0.224042
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax.scipy import special
from nanojax.scipy.stats._common import promote

__all__ = ["cdf", "logpmf", "pmf"]


def logpmf(k: Any, mu: Any, loc: Any = 0) -> Any:
    """``k log mu - mu - gammaln(k + 1)`` at whole ``k - loc >= 0``, ``-inf`` elsewhere."""
    k, mu, loc = promote("stats.poisson.logpmf", k, mu, loc)
    x = k - loc
    off = jnp.logical_or(x < 0, x != jnp.round(x))
    safe = jnp.where(off, 0.0, x)
    out = special.xlogy(safe, mu) - mu - special.gammaln(safe + 1.0)
    return jnp.where(off, -np.inf, out)


def pmf(k: Any, mu: Any, loc: Any = 0) -> Any:
    """The mass (``exp(logpmf)``)."""
    return jnp.exp(logpmf(k, mu, loc))


def cdf(k: Any, mu: Any, loc: Any = 0) -> Any:
    """``P(X <= k) = gammaincc(floor(k - loc) + 1, mu)``, 0 below ``loc``."""
    k, mu, loc = promote("stats.poisson.cdf", k, mu, loc)
    x = k - loc
    neg = x < 0
    out = special.gammaincc(jnp.floor(jnp.where(neg, 0.0, x)) + 1.0, mu)
    return jnp.where(neg, 0.0, out)
