"""The normal distribution truncated to ``[a, b]`` (in standard units), as
``jax.scipy.stats.truncnorm``.

>>> from nanojax.scipy.stats import truncnorm
>>> print(f"{float(truncnorm.cdf(0.0, -1.0, 1.0)):.6f}")
0.500000
>>> print(f"{float(truncnorm.logpdf(40.5, 40.0, 41.0)):.4f}")    # far in the tail
-16.4355
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax.scipy import special
from nanojax.scipy.stats._common import log_diff_exp, promote

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "sf"]

_HALF_LOG_2PI = float(0.5 * np.log(2.0 * np.pi))


def _log_mass(lo: Any, hi: Any) -> Any:
    """``log(ndtr(hi) - ndtr(lo))`` for ``lo <= hi``, without cancellation in either tail:
    both below 0 it is a difference of log_ndtr, both above it is the same mirrored,
    across 0 it is ``log1p(-ndtr(lo) - ndtr(-hi))``."""
    left = hi <= 0
    right = lo >= 0
    lower_tail = log_diff_exp(special.log_ndtr(hi), special.log_ndtr(lo))
    upper_tail = log_diff_exp(special.log_ndtr(-lo), special.log_ndtr(-hi))
    across = jnp.logical_not(jnp.logical_or(left, right))
    # The unused branches get harmless arguments: no warnings, no NaN gradients.
    middle = jnp.log1p(-special.ndtr(jnp.where(across, lo, -1.0))
                       - special.ndtr(-jnp.where(across, hi, 1.0)))
    return jnp.where(left, lower_tail, jnp.where(right, upper_tail, middle))


def _std(name: str, x: Any, a: Any, b: Any, loc: Any, scale: Any) -> tuple:
    x, a, b, loc, scale = promote(name, x, a, b, loc, scale)
    return (x - loc) / scale, a, b, scale


def logpdf(x: Any, a: Any, b: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """The normal log density less ``log(ndtr(b) - ndtr(a))``; ``-inf`` outside ``[a, b]``."""
    z, a, b, scale = _std("stats.truncnorm.logpdf", x, a, b, loc, scale)
    out = -0.5 * z * z - _HALF_LOG_2PI - _log_mass(a, b) - jnp.log(scale)
    return jnp.where(jnp.logical_or(z < a, z > b), -np.inf, out)


def pdf(x: Any, a: Any, b: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """The density (``exp(logpdf)``)."""
    return jnp.exp(logpdf(x, a, b, loc, scale))


def logcdf(x: Any, a: Any, b: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``log`` of the mass of ``[a, z]`` over that of ``[a, b]``."""
    z, a, b, _ = _std("stats.truncnorm.logcdf", x, a, b, loc, scale)
    z = jnp.clip(z, a, b)
    return jnp.minimum(_log_mass(a, z) - _log_mass(a, b), 0.0)


def cdf(x: Any, a: Any, b: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``exp(logcdf)``."""
    return jnp.exp(logcdf(x, a, b, loc, scale))


def logsf(x: Any, a: Any, b: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``log`` of the mass of ``[z, b]`` over that of ``[a, b]``."""
    z, a, b, _ = _std("stats.truncnorm.logsf", x, a, b, loc, scale)
    z = jnp.clip(z, a, b)
    return jnp.minimum(_log_mass(z, b) - _log_mass(a, b), 0.0)


def sf(x: Any, a: Any, b: Any, loc: Any = 0, scale: Any = 1) -> Any:
    """``exp(logsf)``."""
    return jnp.exp(logsf(x, a, b, loc, scale))
