"""The multivariate normal distribution, as ``jax.scipy.stats.multivariate_normal``.

``cov`` is a matrix (or stacks of them), a vector (a diagonal) or a number
(``cov * I``); ``x``'s last axis is the dimension, other axes broadcast.

>>> import numpy as np
>>> from nanojax.scipy.stats import multivariate_normal
>>> print(f"{float(multivariate_normal.logpdf(np.zeros(2), np.zeros(2), np.eye(2))):.6f}")
-1.837877
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax import primitives as P
from nanojax.scipy.stats._common import promote

__all__ = ["logpdf", "pdf"]

_LOG_2PI = float(np.log(2.0 * np.pi))


def logpdf(x: Any, mean: Any, cov: Any, allow_singular: Any = None) -> Any:
    """``-(n log(2 pi) + log det(cov) + d^T cov^-1 d) / 2`` with ``d = x - mean``,
    from the Cholesky factor of ``cov``."""
    name = "nanojax.scipy.stats.multivariate_normal.logpdf"
    if allow_singular:
        raise NotImplementedError(f"{name}: allow_singular=True is not supported (as in JAX)")
    x, mean, cov = (jnp.asarray(v) for v in
                    promote("stats.multivariate_normal.logpdf", x, mean, cov))
    if x.ndim == 0:
        x = jnp.reshape(x, (1,))
    n = x.shape[-1]
    if mean.ndim == 0:
        mean = jnp.broadcast_to(mean, (n,))
    if mean.shape[-1] != n:
        raise ValueError(f"{name}: x has {n} dimensions on its last axis but mean has "
                         f"{mean.shape[-1]}")
    d = x - mean
    if cov.ndim < 2:
        var = jnp.broadcast_to(cov, (n,))
        return -0.5 * (n * _LOG_2PI + jnp.sum(jnp.log(var)) + jnp.sum(d * d / var, axis=-1))
    if cov.shape[-2:] != (n, n):
        raise ValueError(f"{name}: cov of shape {tuple(cov.shape)} does not match the "
                         f"dimension {n} of x")
    factor = jnp.linalg.cholesky(cov)
    batch = tuple(np.broadcast_shapes(tuple(d.shape[:-1]), tuple(cov.shape[:-2])))
    factor = jnp.broadcast_to(factor, batch + (n, n))
    rhs = jnp.broadcast_to(d, batch + (n,))[..., None]
    y = P.triangular_solve_p.bind(factor, rhs, left_side=True, lower=True, transpose_a=False,
                                  conjugate_a=False, unit_diagonal=False)[..., 0]
    log_det = 2.0 * jnp.sum(jnp.log(jnp.diagonal(factor, axis1=-2, axis2=-1)), axis=-1)
    return -0.5 * (n * _LOG_2PI + log_det + jnp.sum(y * y, axis=-1))


def pdf(x: Any, mean: Any, cov: Any, allow_singular: Any = None) -> Any:
    """The density (``exp(logpdf)``)."""
    return jnp.exp(logpdf(x, mean, cov, allow_singular))
