"""``lax.dynamic_slice`` and its family: windows at start indices that may be traced.

(And the static slices, ``lax.slice``, ``slice_in_dim``, ``index_in_dim``, ``rev``.)

A window of static size starts at an index that may be a traced value (a
loop counter under ``jit``, a batched offset under ``vmap``). As in JAX, a
negative start counts from the end, and a start that would run the window
past an edge is clamped so that the window fits. With every start a plain
int this is basic slicing (copied, as JAX returns new arrays); with a traced
start it is a ``gather`` (or, to update, a ``scatter``) on index arrays
``start + arange(size)``, so grad, vmap and jit come from those primitives'
rules.

Examples:
    >>> import numpy as np
    >>> from nanojax import lax
    >>> x = np.arange(12).reshape(3, 4)
    >>> lax.dynamic_slice(x, (1, 1), (2, 3))
    array([[ 5,  6,  7],
           [ 9, 10, 11]])
    >>> lax.dynamic_slice_in_dim(np.arange(5), 4, 3)     # clamped to fit: starts at 2
    array([2, 3, 4])
    >>> lax.dynamic_update_slice(np.zeros(6), np.ones(3), (5,))
    array([0., 0., 0., 1., 1., 1.])
"""

from __future__ import annotations

import builtins
from typing import Any
from collections.abc import Sequence

import numpy as np

import nanojax.numpy as jnp
from nanojax.lax_args import int_tuple, operand as _operand
from nanojax.core import Tracer
from nanojax.numpy import _indexing
from nanojax.numpy._args import describe, is_int

__all__ = ["dynamic_slice", "dynamic_slice_in_dim", "dynamic_index_in_dim",
           "dynamic_update_slice", "dynamic_update_slice_in_dim", "dynamic_update_index_in_dim",
           "index_in_dim", "pad", "rev", "slice", "slice_in_dim", "top_k"]



def _starts(name: str, start_indices: Any, ndim: int) -> list:
    """The start indices, one scalar per axis: ints, integer NumPy scalars or traced ints."""
    if isinstance(start_indices, (np.ndarray, Tracer)):
        if start_indices.ndim != 1:
            raise TypeError(f"nanojax.lax.{name}: start_indices must be a 1-d array or a "
                            f"sequence of scalars, got shape {tuple(start_indices.shape)}")
        starts = [start_indices[k] for k in range(start_indices.shape[0])]
    elif isinstance(start_indices, (list, tuple)):
        starts = list(start_indices)
    else:
        raise TypeError(f"nanojax.lax.{name}: start_indices must be a sequence with one "
                        f"index per axis, got {describe(start_indices)}")
    if len(starts) != ndim:
        raise TypeError(f"nanojax.lax.{name}: {len(starts)} start indices for an operand of "
                        f"rank {ndim}; give one per axis")
    for s in starts:
        if isinstance(s, (Tracer, np.ndarray)):
            if s.shape != () or s.dtype.kind not in "iu":
                raise TypeError(f"nanojax.lax.{name}: each start index must be an integer "
                                f"scalar, got one of shape {tuple(s.shape)} and dtype {s.dtype}")
        elif not is_int(s):
            raise TypeError(f"nanojax.lax.{name}: each start index must be an integer "
                            f"scalar, got {describe(s)}")
    return starts


def _sizes(name: str, slice_sizes: Any, shape: tuple) -> tuple[int, ...]:
    try:
        sizes = tuple(slice_sizes)
    except TypeError:
        sizes = None
    if sizes is None or not all(is_int(n) for n in sizes):
        raise TypeError(f"nanojax.lax.{name}: slice_sizes must be a sequence of ints, got "
                        f"{describe(slice_sizes)}")
    sizes = tuple(int(n) for n in sizes)
    if len(sizes) != len(shape) or any(not 0 <= n <= d for n, d in zip(sizes, shape)):
        raise TypeError(f"nanojax.lax.{name}: slice_sizes {sizes} do not fit an operand of "
                        f"shape {shape}; give one size per axis, each between 0 and the axis")
    return sizes


def _negatives_allowed(name: str, allow: Any, ndim: int) -> list[bool]:
    if isinstance(allow, (bool, np.bool_)):
        return [bool(allow)] * ndim
    flags = list(allow)
    if len(flags) != ndim:
        raise TypeError(f"nanojax.lax.{name}: allow_negative_indices has {len(flags)} "
                        f"entries for an operand of rank {ndim}")
    return [bool(f) for f in flags]


def _clamped(start: Any, dim: int, size: int, allow_negative: bool) -> Any:
    """Where the window really starts: from the end if negative, then moved to fit."""
    if not isinstance(start, Tracer):
        s = int(start)
        if allow_negative and s < 0:
            s += dim
        return min(max(s, 0), dim - size)
    if allow_negative:
        start = jnp.where(start < 0, start + dim, start)
    return jnp.clip(start, 0, dim - size)


def _window(name: str, shape: tuple, starts: list, sizes: tuple, allow: list) -> tuple:
    """The index of the window: slices where every start is known, else index arrays."""
    begins = [_clamped(s, d, n, a) for s, d, n, a in zip(starts, shape, sizes, allow)]
    if not any(isinstance(b, Tracer) for b in begins):
        return tuple(builtins.slice(b, b + n) for b, n in zip(begins, sizes))
    ndim = len(shape)
    index = []
    for k, (b, n) in enumerate(zip(begins, sizes)):
        ones = [1] * ndim
        ones[k] = n                          # an open mesh: each axis's indices broadcast
        index.append(jnp.reshape(b + jnp.arange(n), tuple(ones)))
    return tuple(index)


def dynamic_slice(operand: Any, start_indices: Any, slice_sizes: Sequence[int], *,
                  allow_negative_indices: Any = True) -> Any:
    """The window of ``slice_sizes`` starting at ``start_indices`` (clamped to fit)."""
    return _slice("dynamic_slice", operand, start_indices, slice_sizes, allow_negative_indices)


def _slice(name: str, operand: Any, start_indices: Any, slice_sizes: Sequence[int],
           allow_negative_indices: Any) -> Any:
    x = _operand(name, operand)
    shape = tuple(x.shape)
    starts = _starts(name, start_indices, len(shape))
    sizes = _sizes(name, slice_sizes, shape)
    index = _window(name, shape, starts, sizes, _negatives_allowed(
        name, allow_negative_indices, len(shape)))
    if not isinstance(x, Tracer) and all(type(i) is builtins.slice for i in index):
        return x[index].copy()
    return _indexing.getitem(x, index)


def dynamic_update_slice(operand: Any, update: Any, start_indices: Any, *,
                         allow_negative_indices: Any = True) -> Any:
    """``operand`` with ``update`` written over the window at ``start_indices`` (clamped)."""
    return _update("dynamic_update_slice", operand, update, start_indices,
                   allow_negative_indices)


def _update(name: str, operand: Any, update: Any, start_indices: Any,
            allow_negative_indices: Any) -> Any:
    x, u = _operand(name, operand), _operand(name, update)
    shape = tuple(x.shape)
    if u.dtype != x.dtype:
        raise TypeError(f"nanojax.lax.{name}: update and operand dtypes must match, got "
                        f"{u.dtype} and {x.dtype}")
    if len(u.shape) != len(shape):
        raise TypeError(f"nanojax.lax.{name}: update of rank {len(u.shape)} for an operand "
                        f"of rank {len(shape)}; they must have the same rank")
    starts = _starts(name, start_indices, len(shape))
    sizes = _sizes(name, tuple(u.shape), shape)
    index = _window(name, shape, starts, sizes, _negatives_allowed(
        name, allow_negative_indices, len(shape)))
    if not isinstance(x, Tracer) and not isinstance(u, Tracer) and all(
            type(i) is builtins.slice for i in index):
        out = x.copy()
        out[index] = u
        return out
    return _indexing.at(x)[index].set(u)


def _in_dim(name: str, operand: Any, start: Any, axis: int) -> tuple[Any, list, int]:
    x = _operand(name, operand)
    ndim = len(x.shape)
    axis = _axis(name, axis, ndim)
    starts: list = [0] * ndim
    starts[axis] = start
    return x, starts, axis


def dynamic_slice_in_dim(operand: Any, start_index: Any, slice_size: int, axis: int = 0, *,
                         allow_negative_indices: bool = True) -> Any:
    """``dynamic_slice`` along one axis: ``operand[..., start:start + size, ...]``."""
    return _slice_in_dim("dynamic_slice_in_dim", operand, start_index, slice_size, axis,
                         allow_negative_indices)


def _slice_in_dim(name: str, operand: Any, start_index: Any, slice_size: int, axis: int,
                  allow_negative_indices: bool) -> Any:
    x, starts, axis = _in_dim(name, operand, start_index, axis)
    sizes = list(x.shape)
    sizes[axis] = slice_size
    return _slice(name, x, starts, sizes, allow_negative_indices)


def dynamic_index_in_dim(operand: Any, index: Any, axis: int = 0, keepdims: bool = True, *,
                         allow_negative_indices: bool = True) -> Any:
    """The slice at ``index`` along ``axis``, that axis kept (of size 1) or dropped."""
    out = _slice_in_dim("dynamic_index_in_dim", operand, index, 1, axis,
                        allow_negative_indices)
    if keepdims:
        return out
    return jnp.squeeze(out, axis=int(axis) % len(out.shape))


def dynamic_update_slice_in_dim(operand: Any, update: Any, start_index: Any, axis: int, *,
                                allow_negative_indices: bool = True) -> Any:
    """``dynamic_update_slice`` along one axis."""
    return _update_in_dim("dynamic_update_slice_in_dim", operand, update, start_index, axis,
                          allow_negative_indices)


def _update_in_dim(name: str, operand: Any, update: Any, start_index: Any, axis: int,
                   allow_negative_indices: bool) -> Any:
    x, starts, _ = _in_dim(name, operand, start_index, axis)
    return _update(name, x, update, starts, allow_negative_indices)


def dynamic_update_index_in_dim(operand: Any, update: Any, index: Any, axis: int, *,
                                allow_negative_indices: bool = True) -> Any:
    """Write ``update`` at ``index`` along ``axis``; ``update`` may lack that axis."""
    name = "dynamic_update_index_in_dim"
    x, _, ax = _in_dim(name, operand, index, axis)
    u = _operand(name, update)
    if len(u.shape) == len(x.shape) - 1:
        u = jnp.expand_dims(u, ax)
    return _update_in_dim(name, x, u, index, ax, allow_negative_indices)


# ----- Static slices ------------------------------------------------------------------

def _static_index(name: str, x: Any, index: tuple) -> Any:
    """``x[index]`` for ints and slices: a copy for a plain array (as JAX's are new)."""
    if isinstance(x, Tracer):
        return _indexing.getitem(x, index)
    return x[index].copy()


def slice(operand: Any, start_indices: Sequence[int], limit_indices: Sequence[int],  # noqa: A001
          strides: Sequence[int] | None = None) -> Any:
    """``operand[start:limit:stride, ...]``, every bound a static int inside the array."""
    return _static_slice("slice", operand, start_indices, limit_indices, strides)


def _static_slice(name: str, operand: Any, start_indices: Sequence[int],
                  limit_indices: Sequence[int], strides: Sequence[int] | None) -> Any:
    x = _operand(name, operand)
    shape = tuple(x.shape)
    starts = _static_ints(name, "start_indices", start_indices, len(shape))
    limits = _static_ints(name, "limit_indices", limit_indices, len(shape))
    steps = (1,) * len(shape) if strides is None else _static_ints(name, "strides", strides,
                                                                   len(shape))
    for s, e, step, d in zip(starts, limits, steps, shape):
        if not (0 <= s <= e <= d and step > 0):
            raise ValueError(f"nanojax.lax.{name}: start {starts}, limit {limits} and strides "
                             f"{steps} must satisfy 0 <= start <= limit <= {shape} with "
                             "positive strides")
    return _static_index(name, x, tuple(builtins.slice(s, e, step)
                                        for s, e, step in zip(starts, limits, steps)))


def _static_ints(name: str, what: str, values: Any, ndim: int) -> tuple[int, ...]:
    out = int_tuple(name, what, values)
    if len(out) != ndim:
        raise TypeError(f"nanojax.lax.{name}: {what} has {len(out)} entries for an operand "
                        f"of rank {ndim}")
    return out


def _axis(name: str, axis: Any, ndim: int) -> int:
    if not is_int(axis) or not -ndim <= int(axis) < ndim:
        raise TypeError(f"nanojax.lax.{name}: axis {axis!r} is not an axis of an operand of "
                        f"rank {ndim}")
    return int(axis) % ndim


def slice_in_dim(operand: Any, start_index: int | None, limit_index: int | None,
                 stride: int = 1, axis: int = 0) -> Any:
    """``lax.slice`` along one axis; None means the edge, a negative index counts from the end."""
    name = "slice_in_dim"
    x = _operand(name, operand)
    shape = tuple(x.shape)
    ax = _axis(name, axis, len(shape))
    d = shape[ax]
    bounds = []
    for v, default in ((start_index, 0), (limit_index, d)):
        if v is None:
            v = default
        elif not is_int(v):
            raise TypeError(f"nanojax.lax.{name}: start_index and limit_index must be ints "
                            f"or None, got {describe(v)}")
        bounds.append(int(v) + d if int(v) < 0 else int(v))
    starts, limits, strides = [0] * len(shape), list(shape), [1] * len(shape)
    starts[ax], limits[ax], strides[ax] = bounds[0], bounds[1], stride
    return _static_slice(name, x, starts, limits, strides)


def index_in_dim(operand: Any, index: int, axis: int = 0, keepdims: bool = True) -> Any:
    """The slice at a static ``index`` along ``axis`` (negative counts from the end)."""
    name = "index_in_dim"
    x = _operand(name, operand)
    shape = tuple(x.shape)
    ax = _axis(name, axis, len(shape))
    if not is_int(index) or not -shape[ax] <= int(index) < shape[ax]:
        raise IndexError(f"nanojax.lax.{name}: index {index!r} is out of bounds for axis {ax} "
                         f"of size {shape[ax]}")
    i = int(index) % shape[ax]
    index_tuple = tuple(builtins.slice(i, i + 1) if k == ax else builtins.slice(None)
                        for k in range(len(shape)))
    out = _static_index(name, x, index_tuple)
    return out if keepdims else jnp.squeeze(out, axis=ax)


def rev(operand: Any, dimensions: Sequence[int]) -> Any:
    """``operand`` reversed along each axis in ``dimensions``."""
    name = "rev"
    x = _operand(name, operand)
    ndim = len(x.shape)
    try:
        dims = tuple(dimensions)
    except TypeError:
        dims = None
    if dims is None or not all(is_int(d) and 0 <= int(d) < ndim for d in dims) or len(
            set(dims)) != len(dims):
        raise ValueError(f"nanojax.lax.{name}: dimensions must be distinct axes of an operand "
                         f"of rank {ndim}, got {dimensions!r}")
    return _static_index(name, x, tuple(builtins.slice(None, None, -1) if k in dims
                                        else builtins.slice(None) for k in range(ndim)))


# ----- Padding ----------------------------------------------------------------------

def pad(operand: Any, padding_value: Any, padding_config: Sequence[Sequence[int]]) -> Any:
    """``operand`` padded with ``padding_value``: per axis ``(low, high, interior)``.

    ``interior`` values go between neighbouring elements, then ``low`` before
    and ``high`` after; a negative ``low`` or ``high`` crops instead.
    ``padding_value`` is a scalar and may be traced.

    Examples:
        >>> import numpy as np
        >>> from nanojax import lax
        >>> lax.pad(np.array([1.0, 2.0, 3.0]), 0.0, [(1, 2, 1)])
        array([0., 1., 0., 2., 0., 3., 0., 0.])
        >>> lax.pad(np.array([1.0, 2.0, 3.0]), 9.0, [(-1, 1, 0)])
        array([2., 3., 9.])
    """
    name = "pad"
    x = _operand(name, operand)
    ndim = len(x.shape)
    config = _padding_config(name, padding_config, ndim)
    value = _operand(name, padding_value)
    if tuple(value.shape) != ():
        raise TypeError(f"nanojax.lax.{name}: padding_value must be a scalar, got one of shape "
                        f"{tuple(value.shape)}")
    value = jnp.astype(value, x.dtype)
    for axis, (low, high, interior) in enumerate(config):
        x = _pad_axis(name, x, value, axis, low, high, interior)
    if not isinstance(x, Tracer) and not isinstance(operand, Tracer):
        x = np.array(x)                    # its own memory, as JAX's arrays are new
    return x


def _padding_config(name: str, config: Any, ndim: int) -> list[tuple[int, int, int]]:
    try:
        rows = [tuple(row) for row in config]
    except TypeError:
        rows = None
    if rows is None or len(rows) != ndim or not all(
            len(r) == 3 and all(is_int(v) for v in r) for r in rows):
        raise TypeError(f"nanojax.lax.{name}: padding_config must give (low, high, interior) "
                        f"ints for each of the operand's {ndim} axes, got {describe(config)}")
    out = [(int(lo), int(hi), int(inner)) for lo, hi, inner in rows]
    if any(inner < 0 for _, _, inner in out):
        raise ValueError(f"nanojax.lax.{name}: interior padding must be non-negative, got "
                         f"{[inner for _, _, inner in out]}")
    return out


def _full_along(x: Any, value: Any, axis: int, n: int) -> Any:
    shape = list(x.shape)
    shape[axis] = n
    return jnp.broadcast_to(value, tuple(shape))


def _along(x: Any, axis: int, index: Any) -> tuple:
    return tuple(index if k == axis else builtins.slice(None) for k in range(len(x.shape)))


def _pad_axis(name: str, x: Any, value: Any, axis: int, low: int, high: int,
              interior: int) -> Any:
    n = x.shape[axis]
    if interior and n > 1:
        spread = _full_along(x, value, axis, n + (n - 1) * interior)
        x = _indexing.at(spread)[_along(x, axis, builtins.slice(None, None, interior + 1))].set(x)
        n = x.shape[axis]
    if low + n + high < 0 or (low < 0 and -low > n) or (high < 0 and -high > n + min(low, 0)):
        raise ValueError(f"nanojax.lax.{name}: padding ({low}, {high}) crops more than the "
                         f"{n} elements of axis {axis}")
    start, stop = max(-low, 0), n - max(-high, 0)
    if start or stop != n:
        x = _indexing.getitem(x, _along(x, axis, builtins.slice(start, stop)))
    parts = ([_full_along(x, value, axis, low)] if low > 0 else []) + [x] + (
        [_full_along(x, value, axis, high)] if high > 0 else [])
    return parts[0] if len(parts) == 1 else jnp.concatenate(parts, axis=axis)


# ----- top_k ----------------------------------------------------------------------------

def top_k(operand: Any, k: int) -> tuple[Any, Any]:
    """The ``k`` largest entries along the last axis, largest first, and their int32 indices.

    Equal entries come in their order in ``operand``, as in JAX. The values are
    gathered, so their gradient flows back to the entries they came from.

    Examples:
        >>> import numpy as np
        >>> from nanojax import lax
        >>> lax.top_k(np.array([1.0, 4.0, 2.0, 4.0]), 3)
        (array([4., 4., 2.]), array([1, 3, 2], dtype=int32))
    """
    name = "top_k"
    x = _operand(name, operand)
    shape = tuple(x.shape)
    if not shape:
        raise TypeError(f"nanojax.lax.{name}: the operand must have at least one axis")
    if not is_int(k) or not 0 <= int(k) <= shape[-1]:
        raise ValueError(f"nanojax.lax.{name}: k must be an int between 0 and the last axis' "
                         f"size {shape[-1]}, got {k!r}")
    order = jnp.argsort(x, axis=-1, descending=True)
    indices = _indexing.getitem(order, (Ellipsis, builtins.slice(0, int(k))))
    values = jnp.take_along_axis(x, indices, axis=-1)
    return values, jnp.astype(indices, np.int32)
