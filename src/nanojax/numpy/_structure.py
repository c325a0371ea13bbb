"""jax.numpy's structural functions: splitting, stacking, axes, triangles,
diagonals, insertion and deletion, grids and the index helpers.

Each is NumPy's own call on plain arrays. On a traced array it is built from
gathers, scatters, joins and broadcasts, so its gradient flows through those
primitives' rules. Where NumPy decides *which* elements go where from
concrete arguments (``insert``, ``delete``, ``fill_diagonal``, ``place``),
NumPy itself is run on an array of element numbers ("tags"), and the traced
result is one gather of those positions: NumPy's placement rules, exactly,
with a gradient.

Examples:
    >>> import numpy as np
    >>> import nanojax as nj
    >>> import nanojax.numpy as jnp
    >>> jnp.insert(np.array([1.0, 2.0]), 1, 9.0)
    array([1., 9., 2.])
    >>> nj.grad(lambda x: jnp.sum(jnp.tril(x) * 2.0))(np.ones((2, 2)))
    array([[2., 0.],
           [2., 2.]])
    >>> [g.shape for g in jnp.meshgrid(np.arange(3), np.arange(2))]
    [(2, 3), (2, 3)]
"""

from __future__ import annotations

import builtins
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

import nanojax.numpy as jnp
from nanojax import primitives as P
from nanojax.core import Tracer, concrete_value
from nanojax.numpy import _args, _indexing
from nanojax.numpy._args import has_tracer, numpy_or_traced, operand

__all__ = ["append", "atleast_1d", "atleast_2d", "atleast_3d", "block", "broadcast_arrays",
           "broadcast_shapes", "c_", "choose", "column_stack", "compress", "concat", "delete",
           "diag", "diag_indices", "diag_indices_from", "diagflat", "dsplit", "dstack",
           "extract", "fill_diagonal", "fliplr", "flipud",
           "geomspace", "hsplit", "indices", "insert", "ix_", "logspace", "mask_indices",
           "matrix_transpose", "meshgrid", "permute_dims", "piecewise", "place",
           "put", "put_along_axis", "r_", "resize", "rollaxis", "rot90", "row_stack", "select",
           "tri", "tril", "tril_indices", "tril_indices_from", "triu", "triu_indices",
           "triu_indices_from", "trim_zeros", "unstack", "vander", "vsplit"]


def _ndim(x: Any) -> int:
    return len(P.shape_of(x))


def _concrete(x: Any, what: str) -> Any:
    return np.asarray(concrete_value(x, f"nanojax.numpy.{what}"))


def _from_tags(tags: np.ndarray, *sources: Any) -> Any:
    """The array whose entry is element ``tags[...]`` of the sources, flattened and joined.

    ``tags`` comes from running NumPy's own function on element numbers, so
    the placement is NumPy's; the values are one gather, with its gradient.
    """
    flat = [jnp.ravel(s) for s in sources]
    joined = flat[0] if len(flat) == 1 else jnp.concatenate(flat)
    return _indexing.getitem(joined, np.asarray(tags, np.int64))


def _numbered(x: Any, start: int = 0) -> np.ndarray:
    shape = P.shape_of(x)
    return start + np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.int64).reshape(shape)


# ----- Splitting -------------------------------------------------------------

@numpy_or_traced()
def hsplit(ary: Any, indices_or_sections: Any) -> list:
    """``split`` along the second axis (the first, for 1-D arrays)."""
    if _ndim(ary) == 0:
        raise _args.error("hsplit", ValueError, "hsplit only works on arrays of 1 or more "
                          "dimensions")
    return jnp.split(ary, indices_or_sections, axis=1 if _ndim(ary) > 1 else 0)


@numpy_or_traced()
def vsplit(ary: Any, indices_or_sections: Any) -> list:
    """``split`` along the first axis of an array of 2 or more dimensions."""
    if _ndim(ary) < 2:
        raise _args.error("vsplit", ValueError, "vsplit only works on arrays of 2 or more "
                          "dimensions")
    return jnp.split(ary, indices_or_sections, axis=0)


@numpy_or_traced()
def dsplit(ary: Any, indices_or_sections: Any) -> list:
    """``split`` along the third axis of an array of 3 or more dimensions."""
    if _ndim(ary) < 3:
        raise _args.error("dsplit", ValueError, "dsplit only works on arrays of 3 or more "
                          "dimensions")
    return jnp.split(ary, indices_or_sections, axis=2)


def unstack(x: Any, /, *, axis: int = 0) -> tuple:
    """The slices of ``x`` along ``axis``, as a tuple of arrays."""
    if not isinstance(x, Tracer):
        return _args.call_numpy("unstack", np.unstack, x, axis=axis)
    ax = _args.axis_index("unstack", axis, x.ndim)
    return tuple(_indexing.getitem(x, (builtins.slice(None),) * ax + (i,))
                 for i in range(x.shape[ax]))


# ----- Axes ------------------------------------------------------------------

@numpy_or_traced()
def rollaxis(a: Any, axis: int, start: int = 0) -> Any:
    """``a`` with ``axis`` moved to stand before position ``start`` (NumPy's old moveaxis)."""
    n = a.ndim
    ax = _args.axis_index("rollaxis", axis, n)
    if not _args.is_int(start) or not -n <= start <= n:
        raise _args.error("rollaxis", np.exceptions.AxisError,
                          f"start={start!r} must be an int in [{-n}, {n}]")
    start = start + n if start < 0 else start
    if ax < start:
        start -= 1
    return jnp.moveaxis(a, ax, start) if ax != start else a


def permute_dims(a: Any, /, axes: Any = None) -> Any:
    """``transpose`` under the array API's name."""
    return jnp.transpose(a, axes)


def matrix_transpose(x: Any, /) -> Any:
    """The last two axes of ``x`` swapped (a stack of matrices transposed)."""
    if _ndim(operand(x, "matrix_transpose")) < 2:
        raise _args.error("matrix_transpose", ValueError, "x must be at least 2-dimensional, "
                          f"got shape {P.shape_of(x)}")
    return jnp.swapaxes(x, -1, -2)


@numpy_or_traced()
def fliplr(m: Any) -> Any:
    """``m`` reversed along its second axis."""
    if m.ndim < 2:
        raise _args.error("fliplr", ValueError, "the array must be at least 2-d")
    return jnp.flip(m, 1)


@numpy_or_traced()
def flipud(m: Any) -> Any:
    """``m`` reversed along its first axis."""
    if m.ndim < 1:
        raise _args.error("flipud", ValueError, "the array must be at least 1-d")
    return jnp.flip(m, 0)


@numpy_or_traced()
def rot90(m: Any, k: int = 1, axes: Any = (0, 1)) -> Any:
    """``m`` rotated by 90 degrees ``k`` times in the plane of ``axes`` (from the first
    towards the second), as NumPy."""
    if not _args.is_int(k):
        raise _args.error("rot90", TypeError, f"k must be an int, got {_args.describe(k)}")
    if len(tuple(axes)) != 2:
        raise _args.error("rot90", ValueError, "len(axes) must be 2")
    a0, a1 = (_args.axis_index("rot90", a, m.ndim) for a in axes)
    if a0 == a1:
        raise _args.error("rot90", ValueError, "axes must be different")
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return jnp.flip(jnp.flip(m, a0), a1)
    perm = list(range(m.ndim))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return jnp.transpose(jnp.flip(m, a1), perm)
    return jnp.flip(jnp.transpose(m, perm), a1)


# ----- At least n dimensions ------------------------------------------------

def _at_least(name: str, n: int, arys: tuple) -> Any:
    if not has_tracer(arys):
        return _args.call_numpy(name, getattr(np, name), *arys)
    out = []
    for a in arys:
        a = operand(a, name)
        shape = P.shape_of(a)
        if len(shape) < n:
            # NumPy's placements: (k,) -> (1, k) -> (1, k, 1); () -> (1, 1, 1).
            new = {0: (1,) * n, 1: {1: shape, 2: (1,) + shape, 3: (1,) + shape + (1,)}[n],
                   2: shape + (1,)}[len(shape)]
            a = jnp.reshape(a, new)
        out.append(a)
    return out[0] if len(out) == 1 else tuple(out)


def atleast_1d(*arys: Any) -> Any:
    """Each array with at least one dimension (a tuple of them if several)."""
    return _at_least("atleast_1d", 1, arys)


def atleast_2d(*arys: Any) -> Any:
    """Each array with at least two dimensions, a vector becoming one row."""
    return _at_least("atleast_2d", 2, arys)


def atleast_3d(*arys: Any) -> Any:
    """Each array with at least three dimensions, as NumPy places the new axes."""
    return _at_least("atleast_3d", 3, arys)


# ----- Joining ----------------------------------------------------------------

def _sequence(name: str, tup: Any) -> list:
    if isinstance(tup, Tracer) or not isinstance(tup, (list, tuple)):
        raise _args.error(name, TypeError, f"expected a sequence of arrays, got "
                          f"{_args.describe(tup)}")
    return list(tup)


def column_stack(tup: Sequence[Any]) -> Any:
    """1-D arrays as the columns of a 2-D array; 2-D ones joined along their second axis."""
    items = _sequence("column_stack", tup)
    if not has_tracer(items):
        return _args.call_numpy("column_stack", np.column_stack, items)
    items = [operand(a, "column_stack") for a in items]
    return jnp.concatenate([jnp.reshape(a, (-1, 1)) if _ndim(a) < 2 else a for a in items],
                           axis=1)


def row_stack(tup: Sequence[Any]) -> Any:
    """``vstack`` under its old name."""
    return jnp.vstack(_sequence("row_stack", tup))


def dstack(tup: Sequence[Any]) -> Any:
    """Arrays joined along a third axis (made 3-D first, as ``atleast_3d``)."""
    items = _sequence("dstack", tup)
    if not has_tracer(items):
        return _args.call_numpy("dstack", np.dstack, items)
    return jnp.concatenate([atleast_3d(a) for a in items], axis=2)


def concat(arrays: Sequence[Any], /, *, axis: int | None = 0) -> Any:
    """``concatenate`` under the array API's name."""
    return jnp.concatenate(arrays, axis=axis)


def block(arrays: Any) -> Any:
    """An array assembled from nested lists of blocks, the innermost joined along the
    last axis, as ``numpy.block``."""
    if not _has_tracer_nested(arrays):
        return _args.call_numpy("block", lambda: np.block(arrays))
    depth = _depth(arrays)

    def assemble(item: Any, level: int) -> Any:
        if isinstance(item, list):
            if not item:
                raise _args.error("block", ValueError, "lists cannot be empty")
            parts = [assemble(e, level + 1) for e in item]
            ndim = builtins.max(depth, *(_ndim(p) for p in parts))
            parts = [jnp.reshape(p, (1,) * (ndim - _ndim(p)) + P.shape_of(p)) for p in parts]
            return jnp.concatenate(parts, axis=level - depth)
        if isinstance(item, tuple):
            raise _args.error("block", TypeError, "tuples are not allowed in block; use "
                              "lists of arrays")
        return operand(item, "block")
    return assemble(arrays, 0) if isinstance(arrays, list) else operand(arrays, "block")


def _has_tracer_nested(x: Any) -> bool:
    if isinstance(x, (list, tuple)):
        return builtins.any(_has_tracer_nested(e) for e in x)
    return isinstance(x, Tracer)


def _depth(x: Any) -> int:
    depths = {_depth(e) for e in x} if isinstance(x, list) else {-1}
    if len(depths) != 1:
        raise _args.error("block", ValueError, "the nesting of the lists is uneven")
    return depths.pop() + 1


def broadcast_shapes(*shapes: Any) -> tuple[int, ...]:
    """The shape that arrays of the given shapes broadcast to."""
    try:
        return tuple(int(d) for d in np.broadcast_shapes(*shapes))
    except (TypeError, ValueError) as err:
        raise _args.reworded("broadcast_shapes", err) from None


def broadcast_arrays(*args: Any) -> list:
    """The arrays broadcast against each other (as a list, like JAX)."""
    if not has_tracer(args):
        return list(_args.call_numpy("broadcast_arrays", np.broadcast_arrays, *args))
    items = [operand(a, "broadcast_arrays") for a in args]
    try:
        shape = np.broadcast_shapes(*(P.shape_of(a) for a in items))
    except ValueError as err:
        raise _args.reworded("broadcast_arrays", err) from None
    return [jnp.broadcast_to(a, shape) for a in items]


# ----- Shapes made from data ---------------------------------------------------

@numpy_or_traced()
def resize(a: Any, new_shape: Any) -> Any:
    """``a``'s elements, flattened and repeated cyclically, in the shape ``new_shape``."""
    shape = (int(new_shape),) if _args.is_int(new_shape) else tuple(int(s) for s in new_shape)
    if builtins.any(s < 0 for s in shape):
        raise _args.error("resize", ValueError, "all elements of `new_shape` must be "
                          "non-negative")
    n = int(np.prod(shape, dtype=np.int64))
    flat = jnp.ravel(a)
    if flat.shape[0] == 0 or n == 0:
        return np.zeros(shape, a.dtype)
    repeats = -(-n // flat.shape[0])
    return jnp.reshape(_indexing.getitem(jnp.tile(flat, repeats), builtins.slice(0, n)), shape)


def trim_zeros(filt: Any, trim: str = "fb") -> Any:
    """``filt`` (1-D) without its leading (``'f'``) and trailing (``'b'``) zeros.

    The result's length depends on the values, so they must be concrete (not
    under ``jit``).
    """
    if not isinstance(filt, Tracer):
        return _args.call_numpy("trim_zeros", np.trim_zeros, filt, trim=trim)
    if filt.ndim != 1:
        raise _args.error("trim_zeros", ValueError, "traced values must be 1-D")
    if not isinstance(trim, str) or not set(trim.lower()) <= {"f", "b"}:
        raise _args.error("trim_zeros", ValueError, f"unexpected trim {trim!r}; use 'f', 'b' "
                          "or 'fb'")
    nz = np.flatnonzero(_concrete(filt, "trim_zeros: the values (they decide the length)"))
    if nz.size == 0:
        return _indexing.getitem(filt, builtins.slice(0, 0))
    start = int(nz[0]) if "f" in trim.lower() else 0
    stop = int(nz[-1]) + 1 if "b" in trim.lower() else filt.shape[0]
    return _indexing.getitem(filt, builtins.slice(start, stop))


# ----- Insertion and deletion (NumPy's placement, by tags) ---------------------

def _tagged(name: str, np_fn: Callable, arr: Any, *args: Any, **kwargs: Any) -> np.ndarray:
    try:
        return np.asarray(np_fn(*args, **kwargs))
    except (TypeError, ValueError, IndexError) as err:
        raise _args.reworded(name, err) from None


def _static(x: Any, name: str, what: str) -> Any:
    if has_tracer(x if isinstance(x, (list, tuple)) else (x,)):
        x = [concrete_value(e, f"nanojax.numpy.{name}: {what}") for e in x] \
            if isinstance(x, (list, tuple)) else concrete_value(x, f"nanojax.numpy.{name}: "
                                                                   f"{what}")
    return x


@numpy_or_traced(arrays=3)
def insert(arr: Any, obj: Any, values: Any, axis: int | None = None) -> Any:
    """``arr`` with ``values`` inserted before the positions ``obj`` (concrete) along
    ``axis`` (of the flat array if None)."""
    arr, values = operand(arr, "insert"), operand(values, "insert")
    obj = _static(obj, "insert", "the positions")
    tags = _tagged("insert", np.insert, arr, _numbered(arr), obj,
                   _numbered(values, int(np.prod(P.shape_of(arr), dtype=np.int64))), axis=axis)
    return _from_tags(tags, arr, jnp.astype(values, P.dtype_of(arr)))


@numpy_or_traced()
def delete(arr: Any, obj: Any, axis: int | None = None, *,
           assume_unique_indices: bool = False) -> Any:
    """``arr`` without the entries (or slices along ``axis``) at the positions ``obj``."""
    obj = _static(obj, "delete", "the positions")
    return _from_tags(_tagged("delete", np.delete, arr, _numbered(arr), obj, axis=axis), arr)


@numpy_or_traced(arrays=2)
def append(arr: Any, values: Any, axis: int | None = None) -> Any:
    """``values`` joined to the end of ``arr`` (both flattened if ``axis`` is None)."""
    arr, values = operand(arr, "append"), operand(values, "append")
    if axis is None:
        return jnp.concatenate([jnp.ravel(arr), jnp.ravel(values)])
    return jnp.concatenate([arr, values], axis=axis)


# ----- Grids and index helpers ------------------------------------------------

def meshgrid(*xi: Any, copy: bool = True, sparse: bool = False, indexing: str = "xy") -> list:
    """Coordinate grids from 1-D coordinate vectors (a list, as JAX returns)."""
    if indexing not in ("xy", "ij"):
        raise _args.error("meshgrid", ValueError, "Valid values for `indexing` are 'xy' and "
                          f"'ij', got {indexing!r}")
    if not has_tracer(xi):
        return list(_args.call_numpy("meshgrid", np.meshgrid, *xi, copy=copy, sparse=sparse,
                                     indexing=indexing))
    vectors = [jnp.ravel(operand(x, "meshgrid")) for x in xi]
    n = len(vectors)
    shapes = [tuple(-1 if j == i else 1 for j in range(n)) for i in range(n)]
    if indexing == "xy" and n > 1:
        shapes = [(s[1], s[0]) + s[2:] for s in shapes]
    grids = [jnp.reshape(v, s) for v, s in zip(vectors, shapes)]
    if sparse:
        return grids
    full = np.broadcast_shapes(*(P.shape_of(g) for g in grids))
    return [jnp.broadcast_to(g, full) for g in grids]


def ix_(*args: Any) -> tuple:
    """Open-mesh index arrays: the i-th of n 1-D sequences shaped to broadcast along axis i."""
    if not has_tracer(args):
        return _args.call_numpy("ix_", np.ix_, *args)
    n = len(args)
    out = []
    for i, a in enumerate(args):
        a = operand(a, "ix_")
        if _ndim(a) != 1:
            raise _args.error("ix_", ValueError, "Cross index must be 1 dimensional")
        out.append(jnp.reshape(a, tuple(-1 if j == i else 1 for j in range(n))))
    return tuple(out)


def indices(dimensions: Sequence[int], dtype: Any = int, sparse: bool = False) -> Any:
    """The index grid of an array of shape ``dimensions`` (one array per axis)."""
    dimensions = _static(tuple(dimensions) if isinstance(dimensions, (list, tuple))
                         else dimensions, "indices", "the dimensions")
    return _args.call_numpy("indices", np.indices, dimensions, dtype=dtype, sparse=sparse)


# ----- Diagonals and triangles -------------------------------------------------

@numpy_or_traced()
def diag(v: Any, k: int = 0) -> Any:
    """The ``k``-th diagonal of a 2-D array, or a 2-D array with the 1-D ``v`` on it."""
    if not _args.is_int(k):
        raise _args.error("diag", TypeError, f"k must be an int, got {_args.describe(k)}")
    if v.ndim == 2:
        return jnp.diagonal(v, k)
    if v.ndim != 1:
        raise _args.error("diag", ValueError, "Input must be 1- or 2-d.")
    n = v.shape[0] + builtins.abs(k)
    positions = np.arange(v.shape[0])
    rows, cols = (positions, positions + k) if k >= 0 else (positions - k, positions)
    return _indexing.at(np.zeros((n, n), v.dtype))[rows, cols].set(v)


@numpy_or_traced()
def diagflat(v: Any, k: int = 0) -> Any:
    """A 2-D array with the flattened ``v`` on its ``k``-th diagonal."""
    return diag(jnp.ravel(v), k)


def diag_indices(n: int, ndim: int = 2) -> tuple:
    """The indices of the main diagonal of an (n, n, ..., n) array."""
    return _args.call_numpy("diag_indices", np.diag_indices, n, ndim=ndim)


def diag_indices_from(arr: Any) -> tuple:
    """The indices of the main diagonal of ``arr`` (all of whose sides must be equal)."""
    return _args.call_numpy("diag_indices_from", np.diag_indices_from,
                            _args.dummy(P.shape_of(operand(arr, "diag_indices_from"))))


def fill_diagonal(a: Any, val: Any, wrap: bool = False, *, inplace: bool = True) -> Any:
    """A copy of ``a`` with its main diagonal set to ``val`` (repeated as needed).

    Arrays are immutable, so, as in JAX, pass ``inplace=False``.
    """
    if inplace:
        raise _args.error("fill_diagonal", ValueError, "arrays are immutable, so the "
                          "diagonal cannot be filled in place; pass inplace=False to get "
                          "a new array")
    a, val = operand(a, "fill_diagonal"), operand(val, "fill_diagonal")
    if not has_tracer((a, val)):
        out = np.array(a, copy=True)
        _tagged("fill_diagonal", np.fill_diagonal, a, out, val, wrap)
        return out
    tags = _numbered(a)
    n = int(np.prod(P.shape_of(a), dtype=np.int64))
    _tagged("fill_diagonal", np.fill_diagonal, a, tags, _numbered(val, n), wrap)
    return _from_tags(tags, a, jnp.astype(val, P.dtype_of(a)))


def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> np.ndarray:
    """Ones at and below the ``k``-th diagonal of an (N, M) array, zeros above."""
    return _args.call_numpy("tri", np.tri, N, M=M, k=k, dtype=float if dtype is None else dtype)


def _triangle(name: str, m: Any, k: int, lower: bool) -> Any:
    if not _args.is_int(k):
        raise _args.error(name, TypeError, f"k must be an int, got {_args.describe(k)}")
    shape = P.shape_of(m)
    if len(shape) < 1:
        raise _args.error(name, ValueError, "the input must be at least 1-d")
    rows, cols = shape[-2:] if len(shape) > 1 else (shape[-1], shape[-1])
    mask = np.tri(rows, cols, k if lower else k - 1, dtype=bool)
    if not lower:
        mask = ~mask
    return jnp.where(mask, m, np.zeros((), P.dtype_of(m)))


@numpy_or_traced()
def tril(m: Any, k: int = 0) -> Any:
    """``m`` with the entries above its ``k``-th diagonal set to zero."""
    return _triangle("tril", m, k, lower=True)


@numpy_or_traced()
def triu(m: Any, k: int = 0) -> Any:
    """``m`` with the entries below its ``k``-th diagonal set to zero."""
    return _triangle("triu", m, k, lower=False)


def tril_indices(n: int, k: int = 0, m: int | None = None) -> tuple:
    return _args.call_numpy("tril_indices", np.tril_indices, n, k=k, m=m)


def triu_indices(n: int, k: int = 0, m: int | None = None) -> tuple:
    return _args.call_numpy("triu_indices", np.triu_indices, n, k=k, m=m)


def _from_shape(name: str, arr: Any, k: int) -> tuple:
    shape = P.shape_of(operand(arr, name))
    if len(shape) != 2:
        raise _args.error(name, ValueError, f"input array must be 2-d, got shape {shape}")
    return getattr(np, name.replace("_from", ""))(shape[0], k, shape[1])


def tril_indices_from(arr: Any, k: int = 0) -> tuple:
    return _from_shape("tril_indices_from", arr, k)


def triu_indices_from(arr: Any, k: int = 0) -> tuple:
    return _from_shape("triu_indices_from", arr, k)


def mask_indices(n: int, mask_func: Callable, k: int = 0) -> tuple:
    """The indices where ``mask_func(ones((n, n)), k)`` (``jnp.triu``, say) is non-zero."""
    mask = _concrete(mask_func(np.ones((n, n), int), k), "mask_indices: the mask")
    return np.nonzero(mask != 0)


@numpy_or_traced()
def vander(x: Any, N: int | None = None, increasing: bool = False) -> Any:
    """The Vandermonde matrix of the 1-D ``x``: its columns are powers of ``x``."""
    if x.ndim != 1:
        raise _args.error("vander", ValueError, "x must be a one-dimensional array or "
                          "sequence.")
    n = x.shape[0] if N is None else N
    if not _args.is_int(n) or n < 0:
        raise _args.error("vander", ValueError, f"N must be a non-negative int, got {N!r}")
    # NumPy's steps: a running product of x along the row, after a column of ones.
    columns = jnp.broadcast_to(jnp.reshape(x, (-1, 1)), (x.shape[0], builtins.max(n - 1, 0)))
    ones = np.ones((x.shape[0], builtins.min(n, 1)), P.dtype_of(x))
    out = jnp.concatenate([ones, jnp.cumprod(columns, axis=1)], axis=1)
    return out if increasing else jnp.flip(out, 1)


# ----- Functional puts ---------------------------------------------------------

_IMMUTABLE = ("arrays are immutable, so it cannot change its argument in place; pass "
              "inplace=False to get an updated copy")


def _bounded(name: str, idx: Any, n: int, mode: Any) -> Any:
    """Flat positions ``idx`` into a length ``n`` under NumPy's ``mode``."""
    if mode in (None, "raise"):
        concrete = None if isinstance(idx, Tracer) else np.asarray(idx)
        if concrete is not None and concrete.size and (concrete.min() < -n
                                                       or concrete.max() >= n):
            bad = int(concrete.max()) if concrete.max() >= n else int(concrete.min())
            raise _args.error(name, IndexError, f"index {bad} is out of bounds for size {n}")
        return idx
    if mode == "clip":
        return jnp.clip(idx, 0, n - 1)
    if mode == "wrap":
        return jnp.remainder(idx, n)
    raise _args.error(name, ValueError, f"mode must be 'raise', 'clip' or 'wrap', got {mode!r}")


def put(a: Any, ind: Any, v: Any, mode: str | None = None, *, inplace: bool = True) -> Any:
    """A copy of ``a`` with its flat entries at ``ind`` replaced by ``v`` (cycled to
    ``ind``'s length, as NumPy's put); pass ``inplace=False``, as in JAX."""
    if inplace:
        raise _args.error("put", ValueError, _IMMUTABLE)
    a, ind, v = (operand(e, "put") for e in (a, ind, v))
    if P.dtype_of(ind).kind not in "iu":
        raise _args.error("put", TypeError, f"indices must be integers, got {P.dtype_of(ind)}")
    flat = jnp.ravel(a)
    n = P.shape_of(flat)[0]
    idx = _bounded("put", jnp.ravel(ind), n, mode)
    if P.shape_of(idx)[0] == 0:
        return jnp.copy(a) if isinstance(a, Tracer) else np.array(a, copy=True)
    vals = resize(jnp.astype(v, P.dtype_of(a)), P.shape_of(idx))
    return jnp.reshape(_indexing.at(flat)[idx].set(vals), P.shape_of(a))


def put_along_axis(arr: Any, indices: Any, values: Any, axis: int | None, inplace: bool = True,
                   *, mode: str | None = None) -> Any:
    """A copy of ``arr`` with the entries ``take_along_axis`` would pick set to
    ``values``; pass ``inplace=False``, as in JAX."""
    if inplace:
        raise _args.error("put_along_axis", ValueError, _IMMUTABLE)
    arr, indices, values = (operand(e, "put_along_axis") for e in (arr, indices, values))
    if P.dtype_of(indices).kind not in "iu":
        raise _args.error("put_along_axis", IndexError, "`indices` must be an integer array")
    if axis is None:
        flat = jnp.ravel(arr)
        out = put_along_axis(flat, jnp.ravel(indices), values, 0, inplace=False, mode=mode)
        return jnp.reshape(out, P.shape_of(arr))
    ndim = _ndim(arr)
    if _ndim(indices) != ndim:
        raise _args.error("put_along_axis", ValueError, "`indices` and `arr` must have the "
                          "same number of dimensions")
    ax = _args.axis_index("put_along_axis", axis, ndim)
    shape = P.shape_of(arr)
    try:
        full = tuple(P.shape_of(indices)[i] if i == ax else d for i, d in enumerate(
            np.broadcast_shapes(tuple(1 if i == ax else d for i, d in enumerate(shape)),
                                tuple(1 if i == ax else d
                                      for i, d in enumerate(P.shape_of(indices))))))
    except ValueError as err:
        raise _args.reworded("put_along_axis", err) from None
    index = []
    for i in range(ndim):
        if i == ax:
            index.append(jnp.broadcast_to(_bounded("put_along_axis", indices, shape[ax], mode),
                                          full))
        else:
            index.append(np.broadcast_to(np.arange(shape[i]).reshape(
                tuple(-1 if j == i else 1 for j in range(ndim))), full))
    values = jnp.astype(values, P.dtype_of(arr))
    return _indexing.at(arr)[tuple(index)].set(jnp.broadcast_to(values, full))


def place(arr: Any, mask: Any, vals: Any, *, inplace: bool = True) -> Any:
    """A copy of ``arr`` with the entries where ``mask`` holds set to ``vals`` in turn
    (cycled); the mask must be concrete. Pass ``inplace=False``, as in JAX."""
    if inplace:
        raise _args.error("place", ValueError, _IMMUTABLE)
    arr, vals = operand(arr, "place"), operand(vals, "place")
    mask = _concrete(operand(mask, "place"), "place: the mask (it decides the positions)")
    if not has_tracer((arr, vals)):
        out = np.array(arr, copy=True)
        _tagged("place", np.place, arr, out, mask, vals)
        return out
    tags = _numbered(arr)
    _tagged("place", np.place, arr, tags, mask,
            _numbered(vals, int(np.prod(P.shape_of(arr), dtype=np.int64))))
    return _from_tags(tags, arr, jnp.astype(vals, P.dtype_of(arr)))


def extract(condition: Any, arr: Any, *, size: int | None = None, fill_value: Any = 0) -> Any:
    """The entries of ``arr`` (flattened) where ``condition`` holds; with ``size`` the
    result has that length (cut, or padded with ``fill_value``), so it works under jit."""
    return compress(jnp.ravel(condition), jnp.ravel(arr), size=size, fill_value=fill_value)


def compress(condition: Any, a: Any, axis: int | None = None, *, size: int | None = None,
             fill_value: Any = 0) -> Any:
    """The slices of ``a`` along ``axis`` where the 1-D ``condition`` holds (of the flat
    ``a`` if None); ``size`` fixes the result's length, as in JAX."""
    if size is None and not has_tracer((condition, a)):
        cond = np.asarray(condition)
        if cond.ndim != 1:
            raise _args.error("compress", ValueError, "condition must be a 1-d array")
        return _args.call_numpy("compress", np.compress, cond, a, axis=axis)
    a, condition = operand(a, "compress"), operand(condition, "compress")
    if _ndim(condition) != 1:
        raise _args.error("compress", ValueError, "condition must be a 1-d array")
    if axis is None:
        a, axis = jnp.ravel(a), 0
    ax = _args.axis_index("compress", axis, _ndim(a))
    n = P.shape_of(a)[ax]
    if P.shape_of(condition)[0] > n:
        condition = _indexing.getitem(condition, builtins.slice(0, n))
    (picked,) = jnp.nonzero(condition, size=size, fill_value=n if size is not None else None)
    if size is None:
        return jnp.take(a, picked, axis=ax)
    # Positions past the true ones point one past the end: a padded slot of fill values.
    pad = [(0, 0)] * _ndim(a)
    pad[ax] = (0, 1)
    padded = jnp.pad(a, pad, constant_values=np.asarray(fill_value, P.dtype_of(a)))
    return jnp.take(padded, picked, axis=ax)


# ----- Choosing ---------------------------------------------------------------

def choose(a: Any, choices: Sequence[Any], out: None = None, mode: Any = "raise") -> Any:
    """Entry by entry, the entry of ``choices[a]`` (all broadcast together)."""
    if out is not None:
        raise _args.error("choose", NotImplementedError, "out is not supported: arrays are "
                          "immutable")
    items = list(choices) if isinstance(choices, (list, tuple)) else None
    if items is None or not has_tracer((a, *items)):
        return _args.call_numpy("choose", lambda: np.choose(a, choices, mode=mode))
    a = operand(a, "choose")
    items = [operand(c, "choose") for c in items]
    if P.dtype_of(a).kind not in "iu":
        raise _args.error("choose", TypeError, f"a must hold integers, got {P.dtype_of(a)}")
    n = len(items)
    if mode == "raise":
        concrete = None if isinstance(a, Tracer) else np.asarray(a)
        if concrete is not None and concrete.size and (concrete.min() < 0
                                                       or concrete.max() >= n):
            raise _args.error("choose", ValueError, "invalid entry in choice array")
    elif mode == "clip":
        a = jnp.clip(a, 0, n - 1)
    elif mode == "wrap":
        a = jnp.remainder(a, n)
    else:
        raise _args.error("choose", ValueError, f"mode must be 'raise', 'wrap' or 'clip', got "
                          f"{mode!r}")
    shapes = [P.shape_of(a), *(P.shape_of(c) for c in items)]
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError as err:
        raise _args.reworded("choose", err) from None
    dtype = np.result_type(*(P.dtype_of(c) for c in items))
    stacked = jnp.stack([jnp.broadcast_to(jnp.astype(c, dtype), shape) for c in items])
    which = jnp.reshape(jnp.broadcast_to(a, shape), (1,) + tuple(shape))
    return jnp.reshape(jnp.take_along_axis(stacked, which, axis=0), shape)


def select(condlist: Sequence[Any], choicelist: Sequence[Any], default: Any = 0) -> Any:
    """Entry by entry, the choice of the first condition that holds, else ``default``."""
    conds, choices = list(condlist), list(choicelist)
    if len(conds) != len(choices):
        raise _args.error("select", ValueError, "list of cases must be same length as list "
                          "of conditions")
    if not conds:
        raise _args.error("select", ValueError, "select with an empty condition list is not "
                          "possible")
    if not has_tracer((*conds, *choices, default)):
        return _args.call_numpy("select", lambda: np.select(conds, choices, default))
    for c in conds:
        if P.dtype_of(operand(c, "select")) != np.bool_:
            raise _args.error("select", TypeError, "invalid entry in condlist: should be "
                              "boolean ndarray")
    dtype = np.result_type(*(P.dtype_of(operand(c, "select")) for c in (*choices, default)))
    out = jnp.astype(operand(default, "select"), dtype)
    for cond, choice in zip(reversed(conds), reversed(choices)):
        out = jnp.where(cond, jnp.astype(operand(choice, "select"), dtype), out)
    shape = np.broadcast_shapes(*(P.shape_of(operand(e, "select"))
                                  for e in (*conds, *choices, default)))
    return jnp.broadcast_to(out, shape)


def piecewise(x: Any, condlist: Any, funclist: Sequence[Any], *args: Any, **kw: Any) -> Any:
    """``funclist[i](x)`` where ``condlist[i]`` holds (a later condition winning), and
    the extra function, if given, where none does; the result has ``x``'s dtype.

    Every function sees the whole of ``x`` (as in JAX), not only its entries.
    """
    conds: list = list(condlist) if isinstance(condlist, (list, tuple)) else []
    if not isinstance(condlist, (list, tuple)):
        cond = operand(condlist, "piecewise")
        conds = [cond] if _ndim(cond) == _ndim(operand(x, "piecewise")) \
            else [_indexing.getitem(cond, i) for i in range(P.shape_of(cond)[0])]
    funcs = list(funclist)
    if len(funcs) not in (len(conds), len(conds) + 1):
        raise _args.error("piecewise", ValueError, f"with {len(conds)} condition(s), either "
                          f"{len(conds)} or {len(conds) + 1} functions are expected")
    if not has_tracer((x, *conds)):
        return _args.call_numpy("piecewise", lambda: np.piecewise(x, conds, funcs, *args, **kw))
    x = operand(x, "piecewise")
    dtype = P.dtype_of(x)

    def value(f: Any) -> Any:
        out = f(x, *args, **kw) if callable(f) else f
        return jnp.astype(operand(out, "piecewise"), dtype)
    conds = [operand(c, "piecewise") for c in conds]
    if len(funcs) == len(conds) + 1:
        none = jnp.logical_not(jnp.any(jnp.stack([jnp.broadcast_to(c, P.shape_of(x))
                                                  for c in conds]), axis=0))
        conds, funcs = conds + [none], funcs
    out = jnp.zeros_like(x)
    for cond, f in zip(conds, funcs):
        out = jnp.where(cond, value(f), out)
    return out


# ----- Creation with JAX's keywords ---------------------------------------------

def logspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, base: Any = 10.0,
             dtype: Any = None, axis: int = 0) -> Any:
    """``base ** linspace(start, stop, num)``; the ends and the base may be traced."""
    if not has_tracer((start, stop, base)):
        return _args.call_numpy("logspace", np.logspace, start, stop, num, endpoint=endpoint,
                                base=base, dtype=dtype, axis=axis)
    y = jnp.linspace(start, stop, num, endpoint=endpoint, axis=axis)
    base = operand(base, "logspace")
    if _ndim(base):
        base = jnp.expand_dims(base, _args.axis_index("logspace", axis, _ndim(y)))
    out = jnp.power(base, y)
    return out if dtype is None else jnp.astype(out, dtype)


def geomspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, dtype: Any = None,
              axis: int = 0) -> Any:
    """``num`` numbers from ``start`` to ``stop`` spaced evenly on a log scale (the ends
    of the same sign, non-zero); the ends may be traced."""
    if not has_tracer((start, stop)):
        return _args.call_numpy("geomspace", np.geomspace, start, stop, num,
                                endpoint=endpoint, dtype=dtype, axis=axis)
    start, stop = operand(start, "geomspace"), operand(stop, "geomspace")
    if P.dtype_of(start).kind == "c" or P.dtype_of(stop).kind == "c":
        raise _args.error("geomspace", NotImplementedError, "complex ends are not supported "
                          "on traced values")
    sign = jnp.sign(start)
    # NumPy's steps: logspace between the logarithms, the ends set exactly.
    lo, hi = jnp.log(jnp.abs(start)), jnp.log(jnp.abs(stop))
    out = jnp.exp(jnp.linspace(lo, hi, num, endpoint=endpoint))
    if num > 0:
        out = out.at[0].set(jnp.abs(start))
        if endpoint and num > 1:
            out = out.at[-1].set(jnp.abs(stop))
    out = jnp.multiply(sign, out)
    if axis != 0:
        out = jnp.moveaxis(out, 0, axis)
    return out if dtype is None else jnp.astype(out, dtype)


# ----- r_ and c_ ------------------------------------------------------------------

class _AxisConcatenator:
    """``r_[...]`` / ``c_[...]``: slices, arrays and numbers joined along an axis."""

    __slots__ = ("name", "axis", "ndmin", "trans1d", "np_object")

    def __init__(self, name: str, axis: int, ndmin: int, trans1d: int,
                 np_object: Any) -> None:
        self.name, self.axis, self.ndmin, self.trans1d = name, axis, ndmin, trans1d
        self.np_object = np_object

    def __getitem__(self, key: Any) -> Any:
        items = key if isinstance(key, tuple) else (key,)
        if not has_tracer(items):
            try:
                return self.np_object[key]
            except (TypeError, ValueError, IndexError) as err:
                raise _args.reworded(self.name, err) from None
        axis, ndmin, trans1d = self.axis, self.ndmin, self.trans1d
        parts = []
        for k, item in enumerate(items):
            if isinstance(item, str):
                if k != 0:
                    raise _args.error(self.name, ValueError, "a directive string must come "
                                      "first")
                if item in ("r", "c"):
                    raise _args.error(self.name, NotImplementedError, "matrix directives "
                                      "('r', 'c') are not supported")
                try:
                    settings = [int(s) for s in item.split(",")]
                except ValueError:
                    raise _args.error(self.name, ValueError, f"unknown directive {item!r}") \
                        from None
                axis, ndmin, trans1d = (settings + [ndmin, trans1d][len(settings) - 1:])[:3]
                continue
            if isinstance(item, builtins.slice):
                parts.append(self.np_object[item])
                continue
            x = operand(item, self.name)
            nd = _ndim(x)
            if nd == 0:
                x = jnp.reshape(x, (1,))
                nd = 1
            if nd < ndmin:
                x = jnp.reshape(x, (1,) * (ndmin - nd) + P.shape_of(x))
                if trans1d != -1:
                    k2, k1 = ndmin - nd, trans1d if trans1d >= 0 else trans1d + ndmin - nd + 1
                    order = list(range(ndmin))
                    x = jnp.transpose(x, order[:k1] + order[k2:] + order[k1:k2])
            parts.append(x)
        return jnp.concatenate(parts, axis=axis)

    def __len__(self) -> int:
        return 0


r_ = _AxisConcatenator("r_", 0, 1, -1, np.r_)
c_ = _AxisConcatenator("c_", -1, 2, 0, np.c_)
