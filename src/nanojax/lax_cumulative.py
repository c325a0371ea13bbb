"""``lax.cumprod``, ``cummax``, ``cummin``, ``cumlogsumexp``, and ``lax.sort`` of several operands.

The running reductions are primitives (``nanojax.primitives.cumulative``):
NumPy's accumulations, differentiated as JAX does, through a parallel prefix
scan. ``sort`` orders operands by one or more keys (the first key first) with
stable ``argsort``s, one per key from the last to the first, and gathers every
operand with the resulting permutation: the permutation is a constant, so each
float operand's gradient is the gather's, flowing back to where each entry came
from. Floats sort as in JAX: ``-0.0`` equals ``0.0`` and NaNs come last.

Examples:
    >>> import numpy as np
    >>> from nanojax import lax
    >>> lax.cummax(np.array([1.0, 3.0, 2.0, 5.0]))
    array([1., 3., 3., 5.])
    >>> lax.cumprod(np.array([1.0, 2.0, 3.0]), reverse=True)
    array([6., 6., 3.])
    >>> keys, values = lax.sort_key_val(np.array([3, 1, 2]), np.array([30.0, 10.0, 20.0]))
    >>> values
    array([10., 20., 30.])
    >>> lax.sort((np.array([1, 0, 1, 0]), np.array([2.0, 9.0, 1.0, 3.0])), num_keys=2)
    (array([0, 0, 1, 1]), array([3., 9., 1., 2.]))
"""

from __future__ import annotations

from typing import Any
from collections.abc import Sequence

import numpy as np

from nanojax import primitives as P
from nanojax.core import Primitive, Tracer
from nanojax.numpy import _indexing
from nanojax.numpy._args import check_numeric, describe, is_int

__all__ = ["cumlogsumexp", "cummax", "cummin", "cumprod", "sort", "sort_key_val"]


def _cumulative(name: str, prim: Primitive, floats_only: bool = False) -> Any:
    def fn(operand: Any, axis: int = 0, reverse: bool = False) -> Any:
        from nanojax.lax import _apply, _shape
        if not is_int(axis):
            raise TypeError(f"nanojax.lax.{name}: axis must be an int, got {describe(axis)}")
        dtype = P.dtype_of(operand) if isinstance(operand, (Tracer, np.ndarray, np.generic)) \
            else np.result_type(operand) if type(operand) in (int, float) else None
        _shape(name, operand)                      # refuses lists, strings, objects
        if dtype is not None and (dtype.kind in "bc" or (floats_only and dtype.kind != "f")):
            wanted = "floating-point" if floats_only else "real numeric (not bool or complex)"
            raise TypeError(f"nanojax.lax.{name}: takes {wanted} operands, got {dtype}")
        return _apply(name, prim, (operand,), axis=int(axis), reverse=bool(reverse))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"The running {name[3:]} along ``axis`` (from the end when ``reverse``); "
                  "JAX's gradient.")
    return fn


cumprod = _cumulative("cumprod", P.cumprod_p)
cummax = _cumulative("cummax", P.cummax_p)
cummin = _cumulative("cummin", P.cummin_p)
cumlogsumexp = _cumulative("cumlogsumexp", P.cumlogsumexp_p, floats_only=True)


# ----- sort ----------------------------------------------------------------------------

def _operand(name: str, x: Any) -> Any:
    if isinstance(x, Tracer):
        return x
    if isinstance(x, (list, tuple)):
        raise TypeError(f"nanojax.lax.{name}: each operand must be an array, got "
                        f"{describe(x)}; pass np.asarray of it")
    check_numeric(f"lax.{name}", x)
    x = np.asarray(x)
    if x.dtype.kind == "c":
        raise TypeError(f"nanojax.lax.{name}: complex operands are not supported")
    return x


def permutation(keys: Sequence[Any], axis: int) -> Any:
    """The stable order that sorts by ``keys[0]``, ties broken by ``keys[1]``, and so on.

    Least significant key first: each stable sort keeps the order the later keys
    gave wherever its own key ties.
    """
    perm = P.argsort(keys[-1], axis)
    for key in reversed(keys[:-1]):
        step = P.argsort(_indexing.take_along_axis(key, perm, axis), axis)
        perm = _indexing.take_along_axis(perm, step, axis)
    return perm


def _sorted(name: str, operands: Sequence[Any], dimension: Any, num_keys: int) -> list:
    xs = [_operand(name, x) for x in operands]
    shape = tuple(xs[0].shape)
    for x in xs[1:]:
        if tuple(x.shape) != shape:
            raise ValueError(f"nanojax.lax.{name}: all operands must have the same shape, "
                             f"got {', '.join(str(tuple(y.shape)) for y in xs)}")
    if not is_int(dimension):
        raise TypeError(f"nanojax.lax.{name}: dimension must be an int, got "
                        f"{describe(dimension)}")
    if not -len(shape) <= dimension < len(shape):
        raise ValueError(f"nanojax.lax.{name}: dimension {dimension} is out of range for "
                         f"operands of shape {shape}")
    axis = int(dimension) % len(shape)
    perm = permutation(xs[:num_keys], axis)
    out = [_indexing.take_along_axis(x, perm, axis) for x in xs]
    return [x if isinstance(x, Tracer) else np.asarray(x) for x in out]


def sort(operand: Any, dimension: int = -1, is_stable: bool = True,
         num_keys: int = 1) -> Any:
    """``operand`` sorted along ``dimension``; a sequence of operands is sorted together.

    With a sequence, the first ``num_keys`` operands are the keys (the first
    one primary) and a tuple of every operand, permuted alike, is returned.
    The sort is always stable, which serves ``is_stable=False`` too.
    """
    if not is_int(num_keys):
        raise TypeError(f"nanojax.lax.sort: num_keys must be an int, got {describe(num_keys)}")
    if isinstance(operand, (list, tuple)):
        if not operand:
            raise TypeError("nanojax.lax.sort: needs at least one operand")
        if not 1 <= num_keys <= len(operand):
            raise ValueError(f"nanojax.lax.sort: num_keys={num_keys} must be between 1 and "
                             f"the number of operands, {len(operand)}")
        return tuple(_sorted("sort", operand, dimension, int(num_keys)))
    if num_keys != 1:
        raise ValueError(f"nanojax.lax.sort: num_keys={num_keys} must be 1 for a single "
                         "operand")
    return _sorted("sort", [operand], dimension, 1)[0]


def sort_key_val(keys: Any, values: Any, dimension: int = -1,
                 is_stable: bool = True) -> tuple[Any, Any]:
    """``keys`` sorted along ``dimension``, and ``values`` permuted the same way."""
    k, v = _sorted("sort_key_val", [keys, values], dimension, 1)
    return k, v
