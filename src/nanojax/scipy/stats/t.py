"""Student's t distribution with ``df`` degrees of freedom (density only), as
``jax.scipy.stats.t``.

>>> from nanojax.scipy.stats import t
>>> print(f"{float(t.pdf(0.0, 1.0)):.15f}")             # Cauchy: 1 / pi
0.318309886183791
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax.scipy import special
from nanojax.scipy.stats._common import promote

__all__ = ["logpdf", "pdf"]


def logpdf(x: Any, df: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``gammaln((df+1)/2) - gammaln(df/2) - log(pi df)/2 - log(scale)
    - (df+1)/2 log1p(z^2 / df)``."""
    x, df, loc, scale = promote("stats.t.logpdf", x, df, loc, scale)
    z = (x - loc) / scale
    norm = (0.5 * jnp.log(np.pi * df) + special.gammaln(0.5 * df)
            - special.gammaln(0.5 * (df + 1.0)) + jnp.log(scale))
    return -0.5 * (df + 1.0) * jnp.log1p(z * z / df) - norm


def pdf(x: Any, df: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """The density (``exp(logpdf)``)."""
    return jnp.exp(logpdf(x, df, loc, scale))
