"""The Dirichlet distribution on the simplex, as ``jax.scipy.stats.dirichlet``.

``x``'s first axis holds the ``K`` components (SciPy's layout; further axes
are a batch), or ``K - 1`` of them, the last being ``1 - sum``.

>>> import numpy as np
>>> from nanojax.scipy.stats import dirichlet
>>> print(f"{float(dirichlet.pdf(np.array([0.2, 0.8]), np.array([1.0, 1.0]))):.1f}")
1.0
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax.scipy import special
from nanojax.scipy.stats._common import promote

__all__ = ["logpdf", "pdf"]


def logpdf(x: Any, alpha: Any) -> Any:
    """``sum((alpha - 1) log x) - sum(gammaln(alpha)) + gammaln(sum(alpha))`` on the
    simplex, ``-inf`` off it."""
    name = "nanojax.scipy.stats.dirichlet.logpdf"
    x, alpha = (jnp.asarray(v) for v in promote("stats.dirichlet.logpdf", x, alpha))
    if alpha.ndim != 1:
        raise ValueError(f"{name}: alpha must be one-dimensional, got shape {alpha.shape}")
    k = alpha.shape[0]
    if x.ndim == 0 or x.shape[0] not in (k, k - 1):
        raise ValueError(f"{name}: x of shape {tuple(x.shape)} must have {k} (or {k - 1}) "
                         f"entries along its first axis, for alpha of shape {alpha.shape}")
    if x.shape[0] == k - 1:
        x = jnp.concatenate([x, 1.0 - jnp.sum(x, axis=0, keepdims=True)], axis=0)
    a = jnp.reshape(alpha, (k,) + (1,) * (x.ndim - 1))
    normalize = jnp.sum(special.gammaln(alpha)) - special.gammaln(jnp.sum(alpha))
    on_simplex = jnp.logical_and(jnp.all(x >= 0, axis=0),
                                 jnp.abs(jnp.sum(x, axis=0) - 1.0) < 1e-6)
    safe = jnp.where(on_simplex, x, 1.0 / k)
    out = jnp.sum(special.xlogy(a - 1.0, safe), axis=0) - normalize
    return jnp.where(on_simplex, out, -np.inf)


def pdf(x: Any, alpha: Any) -> Any:
    """The density (``exp(logpdf)``)."""
    return jnp.exp(logpdf(x, alpha))
