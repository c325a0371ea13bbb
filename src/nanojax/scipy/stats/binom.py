"""The binomial distribution of ``n`` trials with success probability ``p``, as
``jax.scipy.stats.binom``.

>>> from nanojax.scipy.stats import binom
>>> print(f"{float(binom.pmf(2, 4, 0.5)):.6f}")          # 6 / 16
0.375000
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax.scipy import special
from nanojax.scipy.stats._common import promote

__all__ = ["logpmf", "pmf"]


def logpmf(k: Any, n: Any, p: Any, loc: Any = 0) -> Any:
    """``log C(n, y) + y log p + (n - y) log(1 - p)`` for ``y = k - loc`` in ``[0, n]``."""
    k, n, p, loc = promote("stats.binom.logpmf", k, n, p, loc)
    y = k - loc
    off = jnp.logical_or(y < 0, y > n)
    safe = jnp.where(off, 0.0, y)
    comb = special.gammaln(n + 1.0) - special.gammaln(safe + 1.0) - special.gammaln(n - safe + 1.0)
    out = comb + special.xlogy(safe, p) + special.xlog1py(n - safe, -p)
    return jnp.where(off, -np.inf, out)


def pmf(k: Any, n: Any, p: Any, loc: Any = 0) -> Any:
    """The mass (``exp(logpmf)``)."""
    return jnp.exp(logpmf(k, n, p, loc))
