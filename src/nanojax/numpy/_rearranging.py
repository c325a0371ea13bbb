"""Functions that rearrange elements: flip, roll, tile, split, array_split.

Each is NumPy's own on plain arrays. On a traced one it is static slicing,
joining and broadcasting, so every gradient flows back through those
primitives' rules.

Examples:
    >>> import numpy as np
    >>> import nanojax as nj
    >>> import nanojax.numpy as jnp
    >>> nj.grad(lambda x: jnp.sum(jnp.roll(x, 1) * np.arange(3.0)))(np.ones(3))
    array([1., 2., 0.])
    >>> [a.shape for a in jnp.split(np.zeros((6, 2)), 3)]
    [(2, 2), (2, 2), (2, 2)]
"""

from __future__ import annotations

import builtins
import itertools
from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax import primitives as P
from nanojax.numpy import _args, _indexing
from nanojax.numpy._args import numpy_or_traced

__all__ = ["array_split", "flip", "roll", "tile", "split"]


def _along(ndim: int, axis: int, index: Any) -> tuple:
    return tuple(index if k == axis else builtins.slice(None) for k in range(ndim))


def _axes_or_all(name: str, axis: Any, ndim: int) -> tuple[int, ...]:
    return tuple(range(ndim)) if axis is None else _args.axes(name, axis, ndim)


@numpy_or_traced()
def flip(m: Any, axis: Any = None) -> Any:
    """``m`` reversed along ``axis`` (an int, a tuple, or None for every axis)."""
    ndim = m.ndim
    axes = _axes_or_all("flip", axis, ndim)
    return _indexing.getitem(m, tuple(builtins.slice(None, None, -1) if k in axes
                                      else builtins.slice(None) for k in range(ndim)))


@numpy_or_traced()
def roll(a: Any, shift: Any, axis: Any = None) -> Any:
    """``a`` shifted by ``shift`` along ``axis``, entries that fall off one end coming back
    at the other (of the flat array if ``axis`` is None)."""
    if axis is None:
        return jnp.reshape(roll(jnp.ravel(a), shift, 0), a.shape)
    shifts, axes = np.broadcast_arrays(np.asarray(shift), np.asarray(axis))
    if shifts.dtype.kind not in "iu" or axes.dtype.kind not in "iu" or shifts.ndim > 1:
        raise _args.error("roll", TypeError, "shift and axis must be ints or sequences of "
                          "ints of the same length")
    x = a
    for s, ax in zip(shifts.ravel().tolist(), axes.ravel().tolist()):
        ax = _args.axis_index("roll", ax, x.ndim)
        n = x.shape[ax]
        s = s % n if n else 0
        if s:
            x = jnp.concatenate([_indexing.getitem(x, _along(x.ndim, ax, builtins.slice(n - s,
                                                                                       None))),
                                 _indexing.getitem(x, _along(x.ndim, ax, builtins.slice(0,
                                                                                       n - s)))],
                                axis=ax)
    return x


@numpy_or_traced()
def tile(A: Any, reps: Any) -> Any:  # NumPy calls it A
    """``A`` repeated ``reps`` times along each axis (NumPy's rules for unequal ranks)."""
    reps_t = tuple(np.atleast_1d(np.asarray(reps)).tolist())
    if not builtins.all(_args.is_int(r) and r >= 0 for r in reps_t):
        raise _args.error("tile", TypeError, "reps must be non-negative ints")
    ndim = builtins.max(A.ndim, len(reps_t))
    shape = (1,) * (ndim - A.ndim) + tuple(A.shape)
    reps_t = (1,) * (ndim - len(reps_t)) + reps_t
    x = jnp.reshape(A, shape)
    # Interleave a new axis of each repeat count before each axis, broadcast, merge.
    spread = tuple(v for r, d in zip(reps_t, shape) for v in (1, d))
    full = tuple(v for r, d in zip(reps_t, shape) for v in (r, d))
    x = jnp.broadcast_to(jnp.reshape(x, spread), full)
    return jnp.reshape(x, tuple(r * d for r, d in zip(reps_t, shape)))


def _pieces(name: str, n: int, indices_or_sections: Any, even: bool) -> list[tuple[int, int]]:
    """The (start, stop) of each piece along an axis of length ``n``, as NumPy cuts them."""
    if _args.is_int(indices_or_sections):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise _args.error(name, ValueError, "number sections must be larger than 0")
        if even and n % sections:
            raise _args.error(name, ValueError, "array split does not result in an equal "
                              "division")
        size, extra = divmod(n, sections)
        bounds = [0]
        for k in range(sections):
            bounds.append(bounds[-1] + size + (1 if k < extra else 0))
    else:
        try:
            cuts = np.asarray(indices_or_sections)
        except ValueError:               # a ragged nest of lists
            cuts = np.zeros((0, 0))
        if cuts.ndim != 1 or (cuts.size and cuts.dtype.kind not in "iu"):
            raise _args.error(name, TypeError, "indices_or_sections must be an int or a "
                              "1-d sequence of ints")
        bounds = [0, *cuts.tolist(), n]
    # NumPy's slicing semantics for each piece: negative and out-of-range cuts too.
    return [builtins.slice(a, b).indices(n)[:2] for a, b in itertools.pairwise(bounds)]


def _split(name: str, ary: Any, indices_or_sections: Any, axis: int, even: bool) -> list:
    x = _args.operand(ary, name)
    ndim = len(P.shape_of(x))
    ax = _args.axis_index(name, axis, ndim)
    n = P.shape_of(x)[ax]
    return [_indexing.getitem(x, _along(ndim, ax, builtins.slice(start, builtins.max(start,
                                                                                      stop))))
            for start, stop in _pieces(name, n, indices_or_sections, even)]


@numpy_or_traced()
def split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list:
    """``ary`` cut into equal sections, or at the given indices, along ``axis``."""
    return _split("split", ary, indices_or_sections, axis, even=True)


@numpy_or_traced()
def array_split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list:
    """``split`` that allows sections of unequal size (the first ones one longer)."""
    return _split("array_split", ary, indices_or_sections, axis, even=False)
