"""The negative binomial distribution (failures ``k`` before ``n`` successes of
probability ``p``), as ``jax.scipy.stats.nbinom``.

>>> from nanojax.scipy.stats import nbinom
>>> print(f"{float(nbinom.pmf(0, 3, 0.5)):.6f}")         # p^n
0.125000
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax.scipy import special
from nanojax.scipy.stats._common import promote

__all__ = ["logpmf", "pmf"]


def logpmf(k: Any, n: Any, p: Any, loc: Any = 0) -> Any:
    """``gammaln(y + n) - gammaln(n) - gammaln(y + 1) + n log p + y log(1 - p)``, y >= 0."""
    k, n, p, loc = promote("stats.nbinom.logpmf", k, n, p, loc)
    y = k - loc
    neg = y < 0
    safe = jnp.where(neg, 0.0, y)
    comb = special.gammaln(safe + n) - special.gammaln(n) - special.gammaln(safe + 1.0)
    out = comb + special.xlogy(n, p) + special.xlog1py(safe, -p)
    return jnp.where(neg, -np.inf, out)


def pmf(k: Any, n: Any, p: Any, loc: Any = 0) -> Any:
    """The mass (``exp(logpmf)``)."""
    return jnp.exp(logpmf(k, n, p, loc))
