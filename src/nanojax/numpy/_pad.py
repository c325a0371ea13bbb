"""``jnp.pad``: NumPy's padding, on traced arrays as on plain ones.

Without a tracer it is ``np.pad`` itself, every mode included. On a traced
array each axis is padded in turn: ``constant`` joins blocks of the value on
either side; ``edge``, ``wrap``, ``reflect`` and ``symmetric`` pick entries
of the array by a fixed index pattern (a gather, so the gradient of each
padded entry flows back to the entry it copies).

Examples:
    >>> import numpy as np
    >>> import nanojax as nj
    >>> import nanojax.numpy as jnp
    >>> jnp.pad(np.array([1.0, 2.0, 3.0]), (2, 1), mode="reflect")
    array([3., 2., 1., 2., 3., 2.])
    >>> nj.grad(lambda x: jnp.sum(jnp.pad(x, 2, mode="edge")))(np.array([1.0, 2.0, 3.0]))
    array([3., 1., 3.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax import primitives as P
from nanojax.core import Tracer
from nanojax.numpy import _args

__all__ = ["pad"]

_NAME = "pad"
_TRACED_MODES = ("constant", "edge", "wrap", "reflect", "symmetric")


def pad(array: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Any:
    """``numpy.pad``; on traced arrays the modes constant, edge, wrap, reflect, symmetric."""
    if not isinstance(array, Tracer) and not _args.has_tracer(kwargs.get("constant_values")):
        return _args.call_numpy(_NAME, np.pad, array, pad_width, mode=mode, **kwargs)
    x = _args.operand(array, _NAME)
    ndim = len(P.shape_of(x))
    widths = _widths(pad_width, ndim)
    if mode not in _TRACED_MODES:
        raise _args.error(_NAME, NotImplementedError,
                          f"mode {mode!r} is not supported on traced arrays; use one of "
                          f"{', '.join(_TRACED_MODES)}")
    allowed = {"constant": {"constant_values"}, "reflect": {"reflect_type"},
               "symmetric": {"reflect_type"}}.get(mode, set())
    unknown = set(kwargs) - allowed
    if unknown:
        raise _args.error(_NAME, ValueError, f"unsupported keyword arguments for mode "
                          f"{mode!r}: {sorted(unknown)}")
    if kwargs.get("reflect_type", "even") != "even":
        raise _args.error(_NAME, NotImplementedError,
                          "reflect_type='odd' is not supported on traced arrays")
    values = _constant_values(kwargs.get("constant_values", 0), ndim)
    for axis, (before, after) in enumerate(widths):
        if before == 0 and after == 0:
            continue
        if mode == "constant":
            x = _pad_constant(x, axis, before, after, *values[axis])
        else:
            x = jnp.take(x, _pattern(mode, P.shape_of(x)[axis], before, after), axis=axis)
    return x


def _widths(pad_width: Any, ndim: int) -> list[tuple[int, int]]:
    """``pad_width`` as NumPy reads it: an int, a pair, or a pair per axis."""
    try:
        widths = np.asarray(pad_width)
    except (TypeError, ValueError):
        widths = None
    if widths is None or widths.dtype.kind not in "iu":
        raise _args.error(_NAME, TypeError, f"pad_width must be ints, got "
                          f"{_args.describe(pad_width)}")
    try:
        widths = np.broadcast_to(widths, (ndim, 2))
    except ValueError:
        raise _args.error(_NAME, ValueError, f"pad_width of shape {widths.shape} does not fit "
                          f"an array of {ndim} axes; give an int, a pair, or a pair per "
                          "axis") from None
    if (widths < 0).any():
        raise _args.error(_NAME, ValueError, "pad_width must be non-negative")
    return [(int(b), int(a)) for b, a in widths]


def _constant_values(values: Any, ndim: int) -> list[tuple[Any, Any]]:
    if isinstance(values, Tracer) or np.ndim(values) == 0:
        return [(values, values)] * ndim
    if _args.has_tracer(values):
        raise _args.error(_NAME, TypeError, "constant_values may be one traced scalar, not "
                          "a sequence holding traced values")
    try:
        table = np.broadcast_to(np.asarray(values), (ndim, 2))
    except ValueError:
        raise _args.error(_NAME, ValueError, f"constant_values {values!r:.60} do not fit an "
                          f"array of {ndim} axes; give a scalar, a (before, after) pair, or a "
                          "pair per axis") from None
    return [(table[k, 0], table[k, 1]) for k in range(ndim)]


def _block(x: Any, axis: int, n: int, value: Any) -> Any:
    shape = list(P.shape_of(x))
    shape[axis] = n
    return jnp.broadcast_to(jnp.astype(value, P.dtype_of(x)), tuple(shape))


def _pad_constant(x: Any, axis: int, before: int, after: int, v_before: Any,
                  v_after: Any) -> Any:
    parts = ([_block(x, axis, before, v_before)] if before else []) + [x] + (
        [_block(x, axis, after, v_after)] if after else [])
    return jnp.concatenate(parts, axis=axis)


def _pattern(mode: str, n: int, before: int, after: int) -> np.ndarray:
    """Which entry each padded position copies, as NumPy's modes define it."""
    if n == 0:
        raise _args.error(_NAME, ValueError, f"can't extend an empty axis with mode {mode!r}")
    k = np.arange(-before, n + after)
    if mode == "edge":
        return np.clip(k, 0, n - 1)
    if mode == "wrap":
        return k % n
    if mode == "symmetric":          # ... 1 0 | 0 1 2 | 2 1 ...: period 2n
        k = k % (2 * n)
        return np.where(k < n, k, 2 * n - 1 - k)
    if n == 1:                       # reflect: ... 2 1 | 0 1 2 | 1 0 ...: period 2n - 2
        return np.zeros_like(k)
    k = k % (2 * n - 2)
    return np.where(k < n, k, 2 * n - 2 - k)
