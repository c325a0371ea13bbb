"""jax.numpy's searching and set functions: nonzero and its relatives, searchsorted,
digitize, unique, isin and the set operations, partition.

A result whose length depends on the values (``nonzero``, ``unique``,
``setdiff1d``...) needs them concrete: eagerly, or under ``grad`` (whose
values are known). Under ``jit`` pass ``size=`` (and ``fill_value=``), as in
JAX: the result then has that length, cut or padded, and is computed from a
stable sort and comparisons, so it stages like any other circuit.

Examples:
    >>> import numpy as np
    >>> import nanojax as nj
    >>> import nanojax.numpy as jnp
    >>> nj.jit(lambda x: jnp.nonzero(x > 0, size=3, fill_value=-1))(np.array([1., -1., 2.]))
    (array([ 0,  2, -1]),)
    >>> nj.jit(lambda x: jnp.unique(x, size=3))(np.array([3., 1., 3.]))
    array([1., 3., 1.])
    >>> jnp.searchsorted(np.array([1., 2., 3.]), 2.5)
    np.int64(2)
"""

from __future__ import annotations

import builtins
from typing import Any, NamedTuple

import numpy as np

import nanojax.numpy as jnp
from nanojax import primitives as P
from nanojax.core import Tracer, concrete_value
from nanojax.errors import ConcretizationTypeError
from nanojax.numpy import _args, _indexing
from nanojax.numpy._args import has_tracer, operand
from nanojax.numpy._ufuncs import where as _three_way_where

__all__ = ["argpartition", "argwhere", "digitize", "flatnonzero", "intersect1d", "isin",
           "in1d", "nonzero", "partition", "ravel_multi_index", "searchsorted", "setdiff1d",
           "setxor1d", "sort_complex", "union1d", "unique", "unique_all", "unique_counts",
           "unique_inverse", "unique_values", "unravel_index", "where"]


def _size_arg(name: str, size: Any) -> int | None:
    if size is None:
        return None
    size = concrete_value(size, f"nanojax.numpy.{name}: size")
    if not _args.is_int(size) or size < 0:
        raise _args.error(name, ValueError, f"size must be a non-negative int, got {size!r}")
    return int(size)


def _needs_size(name: str, x: Any) -> np.ndarray:
    """``x``'s concrete value, or JAX's sentence for when a size is needed instead."""
    if not isinstance(x, Tracer):
        return np.asarray(x)
    try:
        return np.asarray(x.to_concrete_value(f"nanojax.numpy.{name}"))
    except ConcretizationTypeError:
        raise ConcretizationTypeError(
            f"nanojax.numpy.{name}", x.aval if hasattr(x, "aval") else "",
            f"nanojax.numpy.{name}: the size argument must be statically specified to use "
            f"{name} within transformations whose values are abstract (jit, vmap): its "
            "result's length depends on the values; pass size=... (and fill_value=...)"
        ) from None


def _fit(x: np.ndarray, size: int, fill: Any, axis: int = 0) -> np.ndarray:
    """``x`` cut or padded (with ``fill``) to length ``size`` along ``axis``."""
    n = x.shape[axis]
    if n >= size:
        return np.take(x, np.arange(size), axis=axis)
    widths = [(0, 0)] * x.ndim
    widths[axis] = (0, size - n)
    return np.pad(x, widths, constant_values=np.asarray(fill).astype(x.dtype))


# ----- nonzero and friends --------------------------------------------------------

def _first_true(mask: Any, size: int, fill: Any) -> Any:
    """The flat positions of the first ``size`` true entries of the 1-D ``mask``, padded
    with ``fill``: a stable sort puts the true ones first, in order."""
    n = P.shape_of(mask)[0]
    order = jnp.argsort(jnp.logical_not(mask))
    if size > n:
        order = jnp.concatenate([order, np.zeros(size - n, order.dtype)])
    else:
        order = _indexing.getitem(order, builtins.slice(0, size))
    count = jnp.sum(jnp.astype(mask, np.int64))
    return jnp.where(np.arange(size) < count, order, np.asarray(fill, np.int64))


def nonzero(a: Any, *, size: int | None = None, fill_value: Any = None) -> tuple:
    """The indices of ``a``'s non-zero entries, one array per axis; ``size`` (static)
    fixes their length, padding with ``fill_value`` (0 by default, or one per axis)."""
    size = _size_arg("nonzero", size)
    if not isinstance(a, Tracer) and size is None:
        if fill_value is not None:
            raise _args.error("nonzero", ValueError, "fill_value can only be given with size")
        return _args.call_numpy("nonzero", np.nonzero, _scalar_ok("nonzero", a))
    a = operand(a, "nonzero")
    shape = P.shape_of(a)
    if len(shape) == 0:
        raise _args.error("nonzero", ValueError, "Calling nonzero on 0d arrays is not "
                          "allowed. Use jnp.atleast_1d(scalar).nonzero() instead.")
    fills = (tuple(fill_value) if isinstance(fill_value, (tuple, list))
             else (0 if fill_value is None else fill_value,) * len(shape))
    if len(fills) != len(shape):
        raise _args.error("nonzero", ValueError, f"fill_value must be a scalar or a tuple of "
                          f"length {len(shape)}")
    if size is None:
        return tuple(np.nonzero(_needs_size("nonzero", a)))
    if not isinstance(a, Tracer):
        return tuple(_fit(i, size, f) for i, f in zip(np.nonzero(a), fills))
    mask = jnp.ravel(jnp.not_equal(a, 0))
    flat = _first_true(mask, size, 0)
    count = jnp.sum(jnp.astype(mask, np.int64))
    valid = np.arange(size) < count
    out, stride = [], 1
    for d in reversed(shape):
        out.append(jnp.remainder(jnp.floor_divide(flat, stride), d) if d else flat)
        stride *= d
    return tuple(jnp.where(valid, i, np.asarray(f, np.int64))
                 for i, f in zip(reversed(out), fills))


def _scalar_ok(name: str, a: Any) -> Any:
    if np.ndim(a) == 0:
        raise _args.error(name, ValueError, "Calling nonzero on 0d arrays is not allowed. "
                          "Use jnp.atleast_1d(scalar).nonzero() instead.")
    return a


def flatnonzero(a: Any, *, size: int | None = None, fill_value: Any = None) -> Any:
    """The indices of the non-zero entries of the flattened ``a``."""
    if not isinstance(a, Tracer) and size is None and fill_value is None:
        return _args.call_numpy("flatnonzero", np.flatnonzero, a)
    return nonzero(jnp.ravel(a), size=size, fill_value=fill_value)[0]


def argwhere(a: Any, *, size: int | None = None, fill_value: Any = None) -> Any:
    """The indices of the non-zero entries as rows: shape (count, a.ndim)."""
    if not isinstance(a, Tracer) and size is None and fill_value is None:
        return _args.call_numpy("argwhere", np.argwhere, a)
    a = operand(a, "argwhere")
    if len(P.shape_of(a)) == 0:
        picked = nonzero(jnp.reshape(a, (1,)), size=size, fill_value=fill_value)[0]
        return jnp.reshape(picked, (-1, 1))[:, :0]
    return jnp.stack(nonzero(a, size=size, fill_value=fill_value), axis=-1)


def where(condition: Any, x: Any = None, y: Any = None, /, *, size: int | None = None,
          fill_value: Any = None) -> Any:
    """``x`` where ``condition`` holds, else ``y``; with ``condition`` alone,
    ``nonzero(condition, size=, fill_value=)``."""
    if x is None and y is None:
        return nonzero(condition, size=size, fill_value=fill_value)
    if size is not None or fill_value is not None:
        raise _args.error("where", ValueError, "size and fill_value are only for the "
                          "one-argument form")
    return _three_way_where(condition, x, y)


# ----- Indices and flat positions ----------------------------------------------------

def _strides(shape: tuple, order: str) -> list[int]:
    dims = shape if order == "C" else shape[::-1]
    strides, s = [], 1
    for d in reversed(dims):
        strides.append(s)
        s *= d
    strides.reverse()
    return strides if order == "C" else strides[::-1]


def ravel_multi_index(multi_index: Any, dims: Any, mode: str = "raise",
                      order: str = "C") -> Any:
    """The flat positions of the coordinates ``multi_index`` in an array of shape ``dims``."""
    items = tuple(multi_index)
    if not has_tracer(items):
        return _args.call_numpy("ravel_multi_index", np.ravel_multi_index, items, dims,
                                mode=mode, order=order)
    dims = tuple(int(d) for d in dims)
    if len(items) != len(dims):
        raise _args.error("ravel_multi_index", ValueError, f"{len(items)} index arrays for "
                          f"{len(dims)} dimensions")
    if order not in ("C", "F"):
        raise _args.error("ravel_multi_index", ValueError, "order must be 'C' or 'F'")
    if mode == "raise":
        concrete = [_needs_size("ravel_multi_index", i) for i in items]   # NumPy checks
        _args.call_numpy("ravel_multi_index", np.ravel_multi_index, concrete, dims)
    out: Any = 0
    for i, d, s in zip(items, dims, _strides(dims, order)):
        i = operand(i, "ravel_multi_index")
        if P.dtype_of(i).kind not in "iu":
            raise _args.error("ravel_multi_index", TypeError, "only int indices permitted")
        if mode == "clip":
            i = jnp.clip(i, 0, d - 1)
        elif mode == "wrap":
            i = jnp.remainder(i, d)
        elif mode != "raise":
            raise _args.error("ravel_multi_index", ValueError, f"clipmode must be one of "
                              f"'clip', 'raise', or 'wrap', got {mode!r}")
        out = jnp.add(out, jnp.multiply(jnp.astype(i, np.int64), s))
    return out


def unravel_index(indices: Any, shape: Any) -> tuple:
    """The coordinates, in an array of ``shape``, of the flat positions ``indices``.

    Eagerly NumPy's (an out-of-range position is an error). On traced
    positions, as in JAX, a negative one counts from the end and an
    out-of-range one is clipped: under ``jit`` nothing can be raised.
    """
    if not isinstance(indices, Tracer):
        return _args.call_numpy("unravel_index", np.unravel_index, indices, shape)
    if P.dtype_of(indices).kind not in "iu":
        raise _args.error("unravel_index", TypeError, "only int indices permitted")
    dims = (int(shape),) if _args.is_int(shape) else tuple(int(d) for d in shape)
    total = int(np.prod(dims, dtype=np.int64))
    flat = jnp.where(indices < 0, indices + total, indices)
    flat = jnp.clip(flat, 0, builtins.max(total - 1, 0))
    return tuple(jnp.remainder(jnp.floor_divide(flat, s), d) if d else flat
                 for d, s in zip(dims, _strides(dims, "C")))


# ----- Sorted search -------------------------------------------------------------

def _below(x: Any, y: Any) -> Any:
    """``x < y`` in the order sort uses: NaN after every number."""
    return jnp.logical_or(jnp.less(x, y), jnp.logical_and(jnp.isnan(y),
                                                          jnp.logical_not(jnp.isnan(x))))


def searchsorted(a: Any, v: Any, side: str = "left", sorter: Any = None, *,
                 method: str = "scan") -> Any:
    """Where each ``v`` would go in the sorted 1-D ``a`` to keep it sorted.

    ``method`` is accepted for JAX's signature; traced values are always
    compared with every entry of ``a`` (JAX's ``'compare_all'``).
    """
    if side not in ("left", "right"):
        raise _args.error("searchsorted", ValueError, f"side must be 'left' or 'right', got "
                          f"{side!r}")
    if method not in ("scan", "scan_unrolled", "sort", "compare_all"):
        raise _args.error("searchsorted", ValueError, f"unknown method {method!r}")
    if not has_tracer((a, v, sorter)):
        return _args.call_numpy("searchsorted", np.searchsorted, a, v, side=side,
                                sorter=sorter)
    a, v = operand(a, "searchsorted"), operand(v, "searchsorted")
    if len(P.shape_of(a)) != 1:
        raise _args.error("searchsorted", ValueError, "a must be 1-D")
    if sorter is not None:
        a = jnp.take(a, sorter)
    entries = jnp.reshape(a, (1,) * len(P.shape_of(v)) + P.shape_of(a))
    values = jnp.expand_dims(v, -1)
    # left: how many entries come before v; right: how many do not come after it.
    before = _below(entries, values) if side == "left" else jnp.logical_not(
        _below(values, entries))
    return jnp.sum(jnp.astype(before, np.int64), axis=-1)


def digitize(x: Any, bins: Any, right: bool = False, *, method: str | None = None) -> Any:
    """The index of the bin each ``x`` falls in (``bins`` increasing or decreasing)."""
    if not has_tracer((x, bins)):
        return _args.call_numpy("digitize", np.digitize, x, bins, right=right)
    x, bins = operand(x, "digitize"), operand(bins, "digitize")
    if len(P.shape_of(bins)) != 1:
        raise _args.error("digitize", ValueError, "bins must be a 1-D array")
    n = P.shape_of(bins)[0]
    if n == 0:
        return jnp.zeros_like(x, dtype=np.int64)
    side = "left" if right else "right"
    kwargs = {} if method is None else {"method": method}
    rising = searchsorted(bins, x, side=side, **kwargs)
    falling = n - searchsorted(jnp.flip(bins), x, side=side, **kwargs)
    return jnp.where(_indexing.getitem(bins, -1) >= _indexing.getitem(bins, 0), rising, falling)


# ----- unique ---------------------------------------------------------------------

class UniqueAllResult(NamedTuple):
    values: Any
    indices: Any
    inverse_indices: Any
    counts: Any


class UniqueCountsResult(NamedTuple):
    values: Any
    counts: Any


class UniqueInverseResult(NamedTuple):
    values: Any
    inverse_indices: Any


def _first_of_runs(s: Any, equal_nan: bool) -> Any:
    """For the sorted 1-D ``s``: whether each entry differs from the one before."""
    n = P.shape_of(s)[0]
    if n == 0:
        return np.zeros(0, bool)
    prev, cur = (_indexing.getitem(s, builtins.slice(a, b)) for a, b in ((0, n - 1), (1, n)))
    differs = jnp.not_equal(cur, prev)
    if equal_nan and P.dtype_of(s).kind in "fc":
        differs = jnp.logical_and(differs, jnp.logical_not(jnp.logical_and(jnp.isnan(cur),
                                                                           jnp.isnan(prev))))
    return jnp.concatenate([np.ones(1, bool), differs])


def _unique_sized(x: Any, size: int, fill_value: Any, equal_nan: bool) -> tuple:
    """Values, first indices, inverse and counts, each of length ``size``, from a sort."""
    flat = jnp.ravel(x)
    n = P.shape_of(flat)[0]
    perm = jnp.argsort(flat)
    s = jnp.take(flat, perm)
    first = _first_of_runs(s, equal_nan)
    count = jnp.sum(jnp.astype(first, np.int64))
    positions = _first_true(first, size, 0)
    valid = np.arange(size) < count
    if n == 0:
        values = np.full(size, 0 if fill_value is None else fill_value, P.dtype_of(x))
        empty = np.zeros(size, np.int64)
        return values, empty, np.zeros(P.shape_of(x), np.int64), empty
    picked = jnp.take(s, positions)
    fill = _indexing.getitem(s, 0) if fill_value is None else jnp.astype(
        operand(fill_value, "unique"), P.dtype_of(x))
    values = jnp.where(valid, picked, fill)
    indices = jnp.where(valid, jnp.take(perm, positions), 0)
    group = jnp.cumsum(jnp.astype(first, np.int64)) - 1
    inverse = _indexing.at(np.zeros(n, np.int64))[perm].set(jnp.minimum(group, size - 1))
    counts = jnp.sum(jnp.astype(jnp.equal(jnp.reshape(group, (1, -1)),
                                          np.arange(size).reshape(-1, 1)), np.int64), axis=1)
    return values, indices, jnp.reshape(inverse, P.shape_of(x)), counts


def unique(ar: Any, return_index: bool = False, return_inverse: bool = False,
           return_counts: bool = False, axis: int | None = None, *, equal_nan: bool = True,
           size: int | None = None, fill_value: Any = None,
           sorted: bool = True) -> Any:  # noqa: A002 - JAX's keyword
    """The sorted unique entries of ``ar`` (or slices along ``axis``), and optionally the
    index of each one's first occurrence, the inverse and the counts.

    ``size`` (static) fixes the length, padding with ``fill_value`` (the
    smallest unique value by default); then it works under ``jit``.
    """
    size = _size_arg("unique", size)
    extras = (return_index, return_inverse, return_counts)
    if not isinstance(ar, Tracer):
        out = _args.call_numpy("unique", np.unique, ar, *extras, axis=axis,
                               equal_nan=equal_nan)
        if size is None:
            return out
        parts = list(out) if builtins.any(extras) else [out]
        values = parts[0]
        fill = values[0] if fill_value is None and values.size else \
            (0 if fill_value is None else fill_value)
        ax = 0 if axis is None else _args.axis_index("unique", axis, np.ndim(ar))
        parts[0] = _fit(values, size, fill, ax)
        k = 1
        for flag, fits in zip(extras, (True, False, True)):
            if flag:   # the inverse keeps its shape, pointing at most at the last kept value
                parts[k] = _fit(parts[k], size, 0) if fits else np.minimum(parts[k], size - 1)
                k += 1
        return tuple(parts) if builtins.any(extras) else parts[0]
    if axis is not None or size is None:
        # The values decide the result's length: take them concrete (grad knows
        # them), then gather, so the unique values keep their gradient.
        if size is not None:
            raise _args.error("unique", NotImplementedError, "size= with axis= on traced "
                              "values is not supported")
        concrete = _needs_size("unique", ar)
        _, first, inverse, counts = _args.call_numpy(
            "unique", np.unique, concrete, True, True, True, axis=axis, equal_nan=equal_nan)
        values = (jnp.take(jnp.ravel(ar), first) if axis is None
                  else jnp.take(ar, first, axis=axis))
        results = [values] + [r for r, flag in zip((first, inverse, counts), extras) if flag]
        return tuple(results) if builtins.any(extras) else values
    values, first, inverse, counts = _unique_sized(ar, size, fill_value, equal_nan)
    results = [values] + [r for r, flag in zip((first, inverse, counts), extras) if flag]
    return tuple(results) if builtins.any(extras) else values


def unique_values(x: Any, /, *, size: int | None = None, fill_value: Any = None) -> Any:
    """The sorted unique values of ``x``."""
    return unique(x, size=size, fill_value=fill_value)


def unique_counts(x: Any, /, *, size: int | None = None,
                  fill_value: Any = None) -> UniqueCountsResult:
    """The sorted unique values of ``x`` and how often each occurs."""
    return UniqueCountsResult(*unique(x, return_counts=True, size=size,
                                      fill_value=fill_value))


def unique_inverse(x: Any, /, *, size: int | None = None,
                   fill_value: Any = None) -> UniqueInverseResult:
    """The sorted unique values of ``x`` and, for each entry of ``x``, its value's index."""
    values, inverse = unique(x, return_inverse=True, size=size, fill_value=fill_value)
    return UniqueInverseResult(values, jnp.reshape(inverse, P.shape_of(x)))


def unique_all(x: Any, /, *, size: int | None = None,
               fill_value: Any = None) -> UniqueAllResult:
    """Values, first indices, inverse indices (of ``x``'s shape) and counts."""
    values, first, inverse, counts = unique(x, True, True, True, size=size,
                                            fill_value=fill_value)
    return UniqueAllResult(values, first, jnp.reshape(inverse, P.shape_of(x)), counts)


# ----- Membership and the set operations --------------------------------------------

def isin(element: Any, test_elements: Any, assume_unique: bool = False, invert: bool = False,
         *, method: str = "auto") -> Any:
    """Whether each entry of ``element`` is among ``test_elements``."""
    if not has_tracer((element, test_elements)):
        return _args.call_numpy("isin", np.isin, element, test_elements,
                                assume_unique=assume_unique, invert=invert)
    element = operand(element, "isin")
    tests = jnp.ravel(operand(test_elements, "isin"))
    found = jnp.any(jnp.equal(jnp.expand_dims(element, -1), tests), axis=-1)
    return jnp.logical_not(found) if invert else found


def in1d(ar1: Any, ar2: Any, assume_unique: bool = False, invert: bool = False, *,
         method: str = "auto") -> Any:
    """``isin`` of the flattened ``ar1`` (NumPy's old name)."""
    return isin(jnp.ravel(ar1), ar2, assume_unique, invert, method=method)


def _kept(name: str, candidates: Any, keep: Any, size: int | None, fill_value: Any) -> Any:
    """The sorted ``candidates`` where ``keep`` holds, with JAX's ``size`` padding."""
    if size is None:
        mask = _needs_size(name, keep)
        return _indexing.getitem(candidates, mask)
    picked = jnp.extract(keep, candidates, size=size, fill_value=0)
    count = jnp.sum(jnp.astype(keep, np.int64))
    if P.shape_of(candidates)[0] == 0:
        return np.full(size, 0 if fill_value is None else fill_value, P.dtype_of(candidates))
    fill = _indexing.getitem(picked, 0) if fill_value is None else jnp.astype(
        operand(fill_value, name), P.dtype_of(candidates))
    return jnp.where(np.arange(size) < count, picked, fill)


def _eager_set(name: str, np_fn: Any, size: int | None, fill_value: Any, *args: Any,
               **kwargs: Any) -> Any:
    out = _args.call_numpy(name, np_fn, *args, **kwargs)
    if size is None:
        return out
    fill = out[0] if fill_value is None and out.size else (0 if fill_value is None
                                                           else fill_value)
    return _fit(out, size, fill)


def _sorted_flat(*arrays: Any) -> Any:
    flat = [jnp.ravel(operand(a, "set")) for a in arrays]
    return jnp.sort(flat[0] if len(flat) == 1 else jnp.concatenate(flat))


def union1d(ar1: Any, ar2: Any, *, size: int | None = None, fill_value: Any = None) -> Any:
    """The sorted unique values found in either array."""
    size = _size_arg("union1d", size)
    if not has_tracer((ar1, ar2)):
        return _eager_set("union1d", np.union1d, size, fill_value, ar1, ar2)
    c = _sorted_flat(ar1, ar2)
    return _kept("union1d", c, _first_of_runs(c, True), size, fill_value)


def intersect1d(ar1: Any, ar2: Any, assume_unique: bool = False, return_indices: bool = False,
                *, size: int | None = None, fill_value: Any = None) -> Any:
    """The sorted unique values found in both arrays."""
    size = _size_arg("intersect1d", size)
    if not has_tracer((ar1, ar2)):
        if return_indices:
            out = _args.call_numpy("intersect1d", np.intersect1d, ar1, ar2, assume_unique,
                                   True)
            if size is None:
                return out
            fill = out[0][0] if fill_value is None and out[0].size else (
                0 if fill_value is None else fill_value)
            return (_fit(out[0], size, fill), _fit(out[1], size, 0), _fit(out[2], size, 0))
        return _eager_set("intersect1d", np.intersect1d, size, fill_value, ar1, ar2,
                          assume_unique)
    if return_indices:
        raise _args.error("intersect1d", NotImplementedError, "return_indices=True is not "
                          "supported on traced values")
    c = _sorted_flat(ar1)
    keep = jnp.logical_and(_first_of_runs(c, True), isin(c, ar2))
    return _kept("intersect1d", c, keep, size, fill_value)


def setdiff1d(ar1: Any, ar2: Any, assume_unique: bool = False, *, size: int | None = None,
              fill_value: Any = None) -> Any:
    """The sorted unique values of ``ar1`` that are not in ``ar2``."""
    size = _size_arg("setdiff1d", size)
    if not has_tracer((ar1, ar2)):
        return _eager_set("setdiff1d", np.setdiff1d, size, fill_value, ar1, ar2, assume_unique)
    c = _sorted_flat(ar1)
    keep = jnp.logical_and(_first_of_runs(c, True), isin(c, ar2, invert=True))
    return _kept("setdiff1d", c, keep, size, fill_value)


def setxor1d(ar1: Any, ar2: Any, assume_unique: bool = False, *, size: int | None = None,
             fill_value: Any = None) -> Any:
    """The sorted unique values found in exactly one of the arrays."""
    size = _size_arg("setxor1d", size)
    if not has_tracer((ar1, ar2)):
        return _eager_set("setxor1d", np.setxor1d, size, fill_value, ar1, ar2, assume_unique)
    c = _sorted_flat(ar1, ar2)
    keep = jnp.logical_and(_first_of_runs(c, True),
                           jnp.logical_xor(isin(c, ar1), isin(c, ar2)))
    return _kept("setxor1d", c, keep, size, fill_value)


# ----- Partition (JAX's: a full sort is a valid partition) ---------------------------

def _kth(name: str, a: Any, kth: Any, axis: int) -> int:
    if not _args.is_int(kth):
        raise _args.error(name, TypeError, f"kth must be an int (JAX takes one), got "
                          f"{_args.describe(kth)}")
    shape = P.shape_of(operand(a, name))
    n = shape[_args.axis_index(name, axis, len(shape))] if shape else 0
    if not -n <= kth < n:
        raise _args.error(name, ValueError, f"kth(={kth}) out of bounds ({n})")
    return int(kth)


def partition(a: Any, kth: int, axis: int = -1) -> Any:
    """``a`` with its ``kth`` smallest entry (along ``axis``) at position ``kth``, the
    smaller ones before and the larger after: here, as a sort gives them."""
    _kth("partition", a, kth, axis)
    return jnp.sort(a, axis=axis)


def argpartition(a: Any, kth: int, axis: int = -1) -> Any:
    """The indices that would ``partition`` ``a`` (those of a stable sort)."""
    _kth("argpartition", a, kth, axis)
    return jnp.argsort(a, axis=axis)


def sort_complex(a: Any) -> Any:
    """``a`` sorted by real part, then imaginary part, as a complex array."""
    if isinstance(a, Tracer) or (isinstance(a, (list, tuple)) and has_tracer(a)):
        raise _args.error("sort_complex", NotImplementedError, "complex traced values are "
                          "not supported")
    return _args.call_numpy("sort_complex", np.sort_complex, a)

