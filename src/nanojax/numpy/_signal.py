"""Signal processing helpers: the window functions, ``i0`` and ``unwrap``.

A window's length ``M`` is a shape, so it must be a concrete int (as in JAX);
the window itself is then NumPy's, computed once. ``kaiser``'s ``beta`` and
``i0``'s argument may be traced: ``i0`` is ``exp(|x|) i0e(x)``, whose
derivative ``exp(|x|) i1e(x) = I1(x)`` comes from the ``bessel_i0e`` gate's
rule. ``unwrap`` adds to each element a multiple of ``period`` that depends
on the data only through comparisons, so its gradient is the identity.

Examples:
    >>> import numpy as np
    >>> import nanojax as nj
    >>> import nanojax.numpy as jnp
    >>> jnp.hanning(4)
    array([0.  , 0.75, 0.75, 0.  ])
    >>> print(f"{float(nj.grad(jnp.i0)(1.0)):.6f}")          # I1(1)
    0.565159
    >>> jnp.unwrap(np.array([0.0, 3.0, 6.5]))
    array([0.        , 3.        , 0.21681469])
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax import primitives as P
from nanojax.core import Tracer
from nanojax.numpy._args import axis_index, error, has_tracer, numpy_or_traced, operand

__all__ = ["bartlett", "blackman", "hamming", "hanning", "i0", "kaiser", "unwrap"]


def _length(name: str, M: Any) -> int:
    if isinstance(M, Tracer):
        raise error(name, TypeError, "M is a traced value, but a window's length is a shape "
                    "and must be a concrete int (make it static under jit)")
    try:
        return operator.index(M)
    except TypeError:
        raise error(name, TypeError, f"M must be an int, got {type(M).__name__}") from None


def _window(name: str, np_fn: Any) -> Any:
    def window(M: int) -> np.ndarray:
        return np_fn(_length(name, M))
    window.__name__ = window.__qualname__ = name
    window.__doc__ = (f"NumPy's {name} window of length ``M`` (a concrete int), float64; "
                      "empty for ``M < 1``.\n\n"
                      f"    >>> import nanojax.numpy as jnp\n    >>> jnp.{name}(3)\n"
                      f"    {np.array_repr(np_fn(3))}\n")
    return window


bartlett = _window("bartlett", np.bartlett)
blackman = _window("blackman", np.blackman)
hamming = _window("hamming", np.hamming)
hanning = _window("hanning", np.hanning)


def _inexact(name: str, x: Any) -> Any:
    x = operand(x, name)
    kind = jnp.result_type(x).kind
    if kind == "c":
        raise error(name, TypeError, "complex arguments are not supported")
    if kind not in "iubf":
        raise error(name, TypeError, f"expected a real array, got {jnp.result_type(x)}")
    return x if kind == "f" else jnp.astype(x, np.float64)


@numpy_or_traced()
def i0(x: Any, /) -> Any:
    """The modified Bessel function of the first kind, order 0, elementwise (``numpy.i0``);
    differentiable: its derivative is ``I1``."""
    x = _inexact("i0", x)
    return jnp.exp(jnp.abs(x)) * P.bessel_i0e_p.bind(x)


def kaiser(M: int, beta: Any) -> Any:
    """The Kaiser window of length ``M`` (a concrete int) and shape ``beta`` (which may
    be traced, and differentiated in)."""
    n = _length("kaiser", M)
    if not has_tracer(beta):
        try:
            return np.kaiser(n, beta)
        except (TypeError, ValueError) as err:
            raise error("kaiser", type(err), str(err)) from None
    beta = _inexact("kaiser", beta)
    if jnp.ndim(beta) != 0:
        raise error("kaiser", ValueError, f"beta must be a scalar, got shape {jnp.shape(beta)}")
    if n < 1:
        return np.zeros(0)
    if n == 1:
        return jnp.ones(1, jnp.result_type(beta, np.float64)) + 0.0 * beta
    alpha = (n - 1) / 2.0
    ratio = (np.arange(n) - alpha) / alpha
    return i0(beta * np.sqrt(1.0 - ratio * ratio)) / i0(beta)


@numpy_or_traced(numpy_order=False)
def unwrap(p: Any, discont: Any = None, axis: int = -1, *, period: Any = 2 * math.pi) -> Any:
    """``p`` with each jump larger than ``discont`` (by default ``period / 2``) along
    ``axis`` replaced by its complement modulo ``period``."""
    name = "unwrap"
    p = operand(p, name)
    if jnp.result_type(p).kind == "c":
        raise error(name, TypeError, "complex arguments are not supported")
    if jnp.ndim(p) == 0:
        raise error(name, ValueError, "p must be at least one-dimensional")
    ax = axis_index(name, axis, jnp.ndim(p))
    dd = jnp.diff(jnp.stop_gradient(p), axis=ax)
    dtype = jnp.result_type(dd, period)
    if discont is None:
        discont = period / 2
    if dtype.kind in "iu":
        high, boundary_ambiguous = jnp.floor_divide(period, 2), jnp.remainder(period, 2) == 0
    else:
        high, boundary_ambiguous = jnp.divide(period, 2.0), True
    low = -high
    ddmod = jnp.remainder(dd - low, period) + low
    ddmod = jnp.where(boundary_ambiguous & (ddmod == low) & (dd > 0), high, ddmod)
    correction = jnp.where(jnp.abs(dd) < discont, 0, ddmod - dd)
    up = jnp.astype(p, dtype)
    if up.shape[ax] == 0:
        return up
    head = jnp.take(up, np.arange(1), axis=ax)
    rest = jnp.take(up, np.arange(1, up.shape[ax]), axis=ax)
    return jnp.concatenate([head, rest + jnp.cumsum(correction, axis=ax)], axis=ax)
