"""What every distribution module shares: its arguments as float operands."""

from __future__ import annotations

from typing import Any

import nanojax.numpy as jnp
from nanojax.scipy.special import _inexact


def promote(name: str, *args: Any) -> list:
    """``args`` as float operands (ints become float64), with one result type, as JAX's
    ``promote_args_inexact``; ``name`` is the public function, e.g. ``stats.norm.logpdf``."""
    xs = [_inexact(name, a) for a in args]
    dtype = jnp.result_type(*xs)
    return [x if jnp.result_type(x) == dtype else jnp.astype(x, dtype) for x in xs]


def standardize(name: str, x: Any, loc: Any, scale: Any) -> tuple:
    """``((x - loc) / scale, scale)``, the arguments promoted together."""
    x, loc, scale = promote(name, x, loc, scale)
    return (x - loc) / scale, scale


def log_diff_exp(u: Any, v: Any) -> Any:
    """``log(exp(u) - exp(v))`` for ``u >= v``, without cancellation."""
    safe = jnp.where(u > v, v - u, -1.0)
    return jnp.where(u > v, u + jnp.log(-jnp.expm1(safe)), -jnp.inf)
