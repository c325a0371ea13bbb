"""What every lax function checks first: an operand is an array or a number.

As in JAX, lax takes no lists (``jnp`` does): a list or tuple where an array
belongs is a TypeError led by the function's name; a non-numeric array is
refused the same way; anything else becomes a NumPy array.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nanojax.core import Tracer
from nanojax.numpy._args import check_numeric, describe, is_int

__all__ = ["operand", "int_tuple"]


def operand(name: str, x: Any, what: str | None = None) -> Any:
    """``x`` as an operand of ``lax.<name>`` (``what``: its name in messages), or a TypeError."""
    if isinstance(x, Tracer):
        return x
    if isinstance(x, (list, tuple)):
        head = "takes arrays and numbers" if what is None else f"{what} must be an array"
        raise TypeError(f"nanojax.lax.{name}: {head}, got {describe(x)}; pass np.asarray of "
                        "it, or use nanojax.numpy")
    check_numeric(f"lax.{name}", x)
    return np.asarray(x)


def int_tuple(name: str, what: str, values: Any) -> tuple[int, ...]:
    """``values`` (a sequence of ints: strides, sizes, axes) as a tuple, or a TypeError."""
    try:
        out = tuple(values)
    except TypeError:
        out = None
    if out is None or not all(is_int(v) for v in out):
        raise TypeError(f"nanojax.lax.{name}: {what} must be a sequence of ints, got "
                        f"{describe(values)}")
    return tuple(int(v) for v in out)
