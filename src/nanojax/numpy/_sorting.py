"""``jnp.argsort`` and ``jnp.sort``: a stable sort, as JAX's, on traced values too.

The permutation is the ``argsort`` primitive (no gradient: it is integers);
the sorted values are the array gathered with it, so their gradient flows
back to the entry each came from. Stable by default, as in JAX: equal
entries keep their order (NumPy's default quicksort does not promise that).

Examples:
    >>> import numpy as np
    >>> import nanojax as nj
    >>> import nanojax.numpy as jnp
    >>> jnp.argsort(np.array([3.0, 1.0, 2.0, 1.0]))
    array([1, 3, 2, 0])
    >>> jnp.sort(np.array([3.0, 1.0, 2.0]), descending=True)
    array([3., 2., 1.])
    >>> nj.grad(lambda x: jnp.sort(x)[0])(np.array([3.0, 1.0, 2.0]))    # the smallest
    array([0., 1., 0.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax import primitives as P
from nanojax.array import ArrayImpl
from nanojax.core import Tracer
from nanojax.numpy import _args, _indexing

__all__ = ["argsort", "sort"]


_KINDS = (None, "stable", "mergesort", "quicksort", "heapsort")


_ARRAYS = (np.ndarray, ArrayImpl)


def _plain(a: Any, kind: Any, order: Any, descending: bool) -> bool:
    """The common eager call, NumPy's own stable sort: a real array, ascending, no fields."""
    return (type(a) in _ARRAYS and a.dtype.kind in "biuf" and order is None
            and not descending and kind in _KINDS)


def _prepare(name: str, a: Any, axis: Any, kind: Any, order: Any, stable: Any) -> tuple:
    if order is not None:
        raise _args.error(name, NotImplementedError, "order (sorting by fields) is not "
                          "supported: nanojax arrays have no fields")
    # Every kind (and stable=False) is served by the stable sort: a stable
    # order is a valid answer to each of them.
    if kind not in _KINDS:
        raise _args.error(name, ValueError, f"unknown kind {kind!r}; NumPy's are 'quicksort', "
                          "'mergesort', 'heapsort' and 'stable'")
    x = _args.operand(a, name)
    if P.dtype_of(x).kind == "c":
        raise _args.error(name, TypeError, "complex values have no order here; sort their "
                          "real or imaginary part")
    if axis is None:
        return jnp.ravel(x), 0
    return x, _args.axis_index(name, axis, len(P.shape_of(x)))


def _order(x: Any, axis: int, descending: bool) -> Any:
    if P.shape_of(x) == ():
        return np.zeros((), np.int64)
    if not descending:
        return P.argsort(x, axis)
    # Stable and descending: sort the reversed array ascending, reverse the
    # order and map it back, so equal entries still keep their first order.
    n = P.shape_of(x)[axis]
    return (n - 1) - _reversed(P.argsort(_reversed(x, axis), axis), axis)


def _reversed(x: Any, axis: int) -> Any:
    return _indexing.getitem(x, (slice(None),) * axis + (slice(None, None, -1),))


def argsort(a: Any, axis: int | None = -1, kind: Any = None, order: Any = None, *,
            stable: bool = True, descending: bool = False) -> Any:
    """The stable order of ``a``'s entries along ``axis`` (of the flat array if None)."""
    if _plain(a, kind, order, descending):
        return _args.call_numpy("argsort", np.argsort, a, axis=axis, kind="stable")
    x, ax = _prepare("argsort", a, axis, kind, order, stable)
    out = _order(x, ax, descending)
    if not isinstance(out, Tracer):
        out = np.asarray(out)
    return out


def sort(a: Any, axis: int | None = -1, kind: Any = None, order: Any = None, *,
         stable: bool = True, descending: bool = False) -> Any:
    """``a`` sorted along ``axis`` (stable), ascending unless ``descending``."""
    if _plain(a, kind, order, descending):
        return _args.call_numpy("sort", np.sort, a, axis=axis, kind="stable")
    x, ax = _prepare("sort", a, axis, kind, order, stable)
    if P.shape_of(x) == ():
        return x
    return jnp.take_along_axis(x, _order(x, ax, descending), axis=ax)
