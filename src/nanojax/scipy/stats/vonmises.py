"""The von Mises distribution on the circle, as ``jax.scipy.stats.vonmises``.

>>> from nanojax.scipy.stats import vonmises
>>> print(f"{float(vonmises.pdf(0.0, 0.0)):.6f}")         # uniform: 1 / (2 pi)
0.159155
"""

from __future__ import annotations

from typing import Any

import math

import numpy as np

import nanojax.numpy as jnp
from nanojax.scipy import special
from nanojax.scipy.stats._common import promote

__all__ = ["logpdf", "pdf"]


def logpdf(x: Any, kappa: Any) -> Any:
    """``kappa (cos x - 1) - log(2 pi i0e(kappa))`` on ``[-pi, pi]``, ``-inf`` outside
    (i0e keeps large ``kappa`` from overflowing)."""
    x, kappa = promote("stats.vonmises.logpdf", x, kappa)
    out = kappa * (jnp.cos(x) - 1.0) - math.log(2.0 * math.pi) - jnp.log(special.i0e(kappa))
    return jnp.where(jnp.abs(x) <= np.pi, out, -np.inf)


def pdf(x: Any, kappa: Any) -> Any:
    """The density (``exp(logpdf)``)."""
    return jnp.exp(logpdf(x, kappa))
