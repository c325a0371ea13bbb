"""``jnp.cumprod``, ``cumulative_sum``, ``cumulative_prod``, ``nancumsum``, ``nancumprod``,
``lexsort``: NumPy's running sums and products, and its sort by several keys.

Each binds the cumulative primitives (``cumsum``, ``cumprod``), so it is
differentiable (a product with zeros in it too), batches and stages; eagerly
the primitive's impl is NumPy's own call.

Examples:
    >>> import numpy as np
    >>> import nanojax as nj
    >>> import nanojax.numpy as jnp
    >>> jnp.cumprod(np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([ 1.,  2.,  6., 24.])
    >>> jnp.cumulative_sum(np.array([1, 2, 3]), include_initial=True)
    array([0, 1, 3, 6])
    >>> nj.grad(lambda x: jnp.cumprod(x)[-1])(np.array([2.0, 0.0, 3.0]))
    array([0., 6., 0.])
    >>> jnp.lexsort((np.array([2, 1, 3]), np.array([0, 1, 0])))
    array([0, 2, 1])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nanojax import primitives as P
from nanojax.core import Tracer
from nanojax.numpy import _args
from nanojax.numpy._shapes import ravel
from nanojax.numpy._ufuncs import astype, isnan, where

__all__ = ["cumprod", "cumulative_prod", "cumulative_sum", "lexsort", "nancumprod",
           "nancumsum"]


def _prepared(name: str, a: Any, axis: Any, dtype: Any) -> tuple[Any, int]:
    x = _args.operand(a, name)
    if not isinstance(x, Tracer):
        x = np.asarray(x)
    if P.dtype_of(x).kind == "c":
        raise _args.error(name, TypeError, "complex values are not supported")
    if dtype is not None:
        x = astype(x, dtype)
    if axis is None:
        return ravel(x), 0
    return x, _args.axis_index(name, axis, len(P.shape_of(x)))


def _running(name: str, bind: Any, a: Any, axis: Any, dtype: Any) -> Any:
    x, ax = _prepared(name, a, axis, dtype)
    if P.dtype_of(x) == np.bool_:              # NumPy counts booleans as integers
        x = astype(x, np.int64)
    return bind(x, ax)


def cumprod(a: Any, axis: int | None = None, dtype: Any = None) -> Any:
    """Running products along ``axis`` (of the flattened array when None)."""
    return _running("cumprod", P.cumprod, a, axis, dtype)


def nancumsum(a: Any, axis: int | None = None, dtype: Any = None) -> Any:
    """Running sums with NaNs counted as zero."""
    x, ax = _prepared("nancumsum", a, axis, dtype)
    if P.dtype_of(x).kind == "f":
        x = where(isnan(x), 0.0, x)
    return _running("nancumsum", P.cumsum, x, ax, None)


def nancumprod(a: Any, axis: int | None = None, dtype: Any = None) -> Any:
    """Running products with NaNs counted as one."""
    x, ax = _prepared("nancumprod", a, axis, dtype)
    if P.dtype_of(x).kind == "f":
        x = where(isnan(x), 1.0, x)
    return _running("nancumprod", P.cumprod, x, ax, None)


def _cumulative(name: str, bind: Any, identity: float, x: Any, axis: Any, dtype: Any,
                include_initial: bool) -> Any:
    # The array API's form: axis may be left out only for a 1-d array.
    x = _args.operand(x, name)
    ndim = len(P.shape_of(x))
    if axis is None:
        if ndim != 1:
            raise _args.error(name, ValueError, f"axis must be given for an array of "
                              f"{ndim} dimensions")
        axis = 0
    out = _running(name, bind, x, axis, dtype)
    if not include_initial:
        return out
    ax = _args.axis_index(name, axis, ndim)
    shape = list(P.shape_of(out))
    shape[ax] = 1
    first = np.full(shape, identity, P.dtype_of(out))
    joined = P.concatenate([first, out], ax)
    return joined if isinstance(joined, Tracer) else np.asarray(joined)


def cumulative_sum(x: Any, /, *, axis: int | None = None, dtype: Any = None,
                   include_initial: bool = False) -> Any:
    """The array API's running sum; ``include_initial`` puts a 0 first."""
    return _cumulative("cumulative_sum", P.cumsum, 0, x, axis, dtype, include_initial)


def cumulative_prod(x: Any, /, *, axis: int | None = None, dtype: Any = None,
                    include_initial: bool = False) -> Any:
    """The array API's running product; ``include_initial`` puts a 1 first."""
    return _cumulative("cumulative_prod", P.cumprod, 1, x, axis, dtype, include_initial)


def lexsort(keys: Any, axis: int = -1) -> Any:
    """The stable order sorting by ``keys[-1]`` first, then ``keys[-2]``..., as NumPy's."""
    from nanojax.lax_cumulative import permutation
    if isinstance(keys, (Tracer, np.ndarray)):
        if len(P.shape_of(keys)) == 0:
            raise _args.error("lexsort", TypeError, "keys must be a sequence of arrays "
                              "(or a 2-d array), got a 0-d array")
        rows = [keys[i] for i in range(P.shape_of(keys)[0])]
    elif isinstance(keys, (list, tuple)) and keys:
        rows = [_args.operand(k, "lexsort") for k in keys]
    else:
        raise _args.error("lexsort", TypeError, f"keys must be a non-empty sequence of "
                          f"arrays, got {_args.describe(keys)}")
    rows = [k if isinstance(k, Tracer) else np.asarray(k) for k in rows]
    shape = P.shape_of(rows[0])
    if any(P.shape_of(k) != shape for k in rows):
        raise _args.error("lexsort", ValueError, "all keys need the same shape, got "
                          f"{', '.join(str(P.shape_of(k)) for k in rows)}")
    if not shape:
        return np.zeros((), np.int64)
    ax = _args.axis_index("lexsort", axis, len(shape))
    out = permutation(rows[::-1], ax)
    return out if isinstance(out, Tracer) else np.asarray(out)
