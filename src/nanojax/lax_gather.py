"""XLA's ``gather`` and ``scatter`` with their dimension numbers, on nanojax's indexing gates.

``lax.gather`` takes, for every index vector in ``start_indices`` (its
last axis), a window of ``slice_sizes`` out of ``operand`` starting there;
the dimension numbers say which operand axes the index vector addresses
(``start_index_map``), which window axes are dropped (``collapsed_slice_dims``),
where the remaining window axes go in the output (``offset_dims``), and which
axes are batch axes shared by the operand and the indices. ``lax.scatter``
and ``lax.scatter_add`` are the mirror image: windows of ``updates`` written
into (or added onto) a copy of ``operand``.

Both are translated here into one integer array: for every element of the
output (or of the updates), its position in the flattened operand, built by
broadcast index arithmetic from the start indices and the window offsets.
A gather is then ``operand.reshape(-1)[positions]`` and a scatter an
``.at[positions].set/add`` on the flattened operand, so their gradients,
batching and staging are the ``gather``, ``scatter`` and ``scatter-add``
gates' own. Out-of-bounds windows follow ``mode`` (``GatherScatterMode``),
as in JAX: a gather clamps by default (PROMISE_IN_BOUNDS, where XLA clamps)
or fills the whole window with ``fill_value`` (FILL_OR_DROP); a scatter
drops the whole window by default (FILL_OR_DROP: it goes to a scratch slot
that is cut off afterwards) or clamps it (CLIP).

Examples:
    >>> import numpy as np
    >>> from nanojax import lax
    >>> x = np.arange(12.0).reshape(3, 4)
    >>> rows = lax.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(0,),
    ...                                   start_index_map=(0,))
    >>> lax.gather(x, np.array([[2], [0]]), rows, (1, 4))          # x[[2, 0]]
    array([[ 8.,  9., 10., 11.],
           [ 0.,  1.,  2.,  3.]])
    >>> into = lax.ScatterDimensionNumbers(update_window_dims=(), inserted_window_dims=(0,),
    ...                                    scatter_dims_to_operand_dims=(0,))
    >>> lax.scatter_add(np.zeros(4), np.array([[1], [3], [1]]), np.ones(3), into)
    array([0., 2., 0., 1.])
"""

from __future__ import annotations

import enum
from typing import Any, NamedTuple
from collections.abc import Sequence

import numpy as np

import nanojax.numpy as jnp
from nanojax import primitives as P
from nanojax.lax_args import operand as _operand
from nanojax.core import Tracer
from nanojax.numpy import _indexing
from nanojax.numpy._args import describe, is_int

__all__ = ["GatherDimensionNumbers", "GatherScatterMode", "ScatterDimensionNumbers", "gather",
           "scatter", "scatter_add"]

_I64 = np.dtype(np.int64)


class GatherDimensionNumbers(NamedTuple):
    """How the axes of ``operand``, ``start_indices`` and the output of ``gather`` relate.

    ``offset_dims``: the output axes that hold the window's kept axes (ascending).
    ``collapsed_slice_dims``: operand axes whose window is 1 and is dropped.
    ``start_index_map``: the operand axis each entry of an index vector starts.
    ``operand_batching_dims`` / ``start_indices_batching_dims``: operand axes
    paired with axes of ``start_indices`` (an example's own operand). The index
    vector is always the last axis of ``start_indices``, as in JAX.
    """

    offset_dims: tuple[int, ...]
    collapsed_slice_dims: tuple[int, ...]
    start_index_map: tuple[int, ...]
    operand_batching_dims: tuple[int, ...] = ()
    start_indices_batching_dims: tuple[int, ...] = ()


class ScatterDimensionNumbers(NamedTuple):
    """How the axes of ``operand``, ``scatter_indices`` and ``updates`` of a scatter relate.

    ``update_window_dims``: the axes of ``updates`` that are window axes
    (ascending). ``inserted_window_dims``: operand axes the window has size 1
    in and ``updates`` lacks. ``scatter_dims_to_operand_dims``: the operand
    axis each entry of an index vector starts. ``operand_batching_dims`` /
    ``scatter_indices_batching_dims``: operand axes paired with axes of the
    indices. The index vector is always the last axis of the indices.
    """

    update_window_dims: Sequence[int]
    inserted_window_dims: Sequence[int]
    scatter_dims_to_operand_dims: Sequence[int]
    operand_batching_dims: Sequence[int] = ()
    scatter_indices_batching_dims: Sequence[int] = ()


class GatherScatterMode(enum.Enum):
    """What a gather or scatter does with a window that is not wholly inside the operand.

    ``CLIP``: the start is clamped so that the window fits. ``FILL_OR_DROP``:
    a gathered window is all ``fill_value``; a scattered window is discarded.
    ``PROMISE_IN_BOUNDS``: the caller promises it never happens; as XLA
    does, a gather then clamps and a scatter discards.
    """

    CLIP = enum.auto()
    FILL_OR_DROP = enum.auto()
    PROMISE_IN_BOUNDS = enum.auto()

    @staticmethod
    def from_any(s: Any) -> GatherScatterMode:
        """The mode ``s`` names: a mode, ``"clip"``, ``"fill"``/``"drop"``/None, or
        ``"promise_in_bounds"``."""
        if isinstance(s, GatherScatterMode):
            return s
        if s == "clip":
            return GatherScatterMode.CLIP
        if s is None or s in ("fill", "drop"):
            return GatherScatterMode.FILL_OR_DROP
        if s == "promise_in_bounds":
            return GatherScatterMode.PROMISE_IN_BOUNDS
        raise ValueError(f"Unknown gather mode {s!r}")


def _mode(name: str, mode: Any, default: GatherScatterMode) -> GatherScatterMode:
    if mode is None:
        return default
    try:
        return GatherScatterMode.from_any(mode)
    except (ValueError, TypeError):
        raise ValueError(f"nanojax.lax.{name}: mode must be a GatherScatterMode, 'clip', "
                         f"'fill', 'drop' or 'promise_in_bounds', got {mode!r}") from None


# ----- Checking the operands and the dimension numbers -----------------------------------


def _dims(name: str, what: str, dims: Any, bound: int, *, ascending: bool = True
          ) -> tuple[int, ...]:
    try:
        out = tuple(dims)
    except TypeError:
        out = None
    if out is None or not all(is_int(d) for d in out):
        raise TypeError(f"nanojax.lax.{name}: {what} must be a tuple of ints, got "
                        f"{describe(dims)}")
    out = tuple(int(d) for d in out)
    if any(not 0 <= d < bound for d in out) or len(set(out)) != len(out):
        raise ValueError(f"nanojax.lax.{name}: {what} {out} must be distinct axes in "
                         f"[0, {bound})")
    if ascending and list(out) != sorted(out):
        raise ValueError(f"nanojax.lax.{name}: {what} {out} must be in ascending order")
    return out


def _index_array(name: str, what: str, idx: Any) -> Any:
    idx = _operand(name, idx, what=what)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"nanojax.lax.{name}: {what} must be integers, got dtype {idx.dtype}")
    if idx.ndim == 0:
        raise ValueError(f"nanojax.lax.{name}: {what} must have an index vector as its last "
                         "axis (at least 1-d), got a scalar; add a trailing axis of size 1")
    return idx


def _check_batching(name: str, which: str, x_shape: tuple, idx_shape: tuple,
                    operand_batching: tuple, index_batching: tuple) -> None:
    if len(operand_batching) != len(index_batching):
        raise ValueError(f"nanojax.lax.{name}: operand_batching_dims {operand_batching} and "
                         f"{which} {index_batching} must have the same length")
    for od, idd in zip(operand_batching, index_batching):
        if x_shape[od] != idx_shape[idd]:
            raise ValueError(f"nanojax.lax.{name}: operand batching axis {od} (size "
                             f"{x_shape[od]}) and index batching axis {idd} (size "
                             f"{idx_shape[idd]}) must have the same size")


# ----- The index arithmetic both share ---------------------------------------------------

def _placed(v: Any, positions: Sequence[int], rank: int) -> Any:
    """``v`` (one axis per entry of ``positions``) reshaped to ``rank`` axes, its axes
    at ``positions`` (ascending) and size 1 elsewhere, to broadcast against the rest."""
    shape = [1] * rank
    for p, n in zip(positions, P.shape_of(v)):
        shape[p] = n
    return jnp.reshape(v, tuple(shape))


def _as_i64(v: Any) -> Any:
    if P.dtype_of(v) == _I64:
        return v
    return P.convert_element_type(v, _I64) if isinstance(v, Tracer) else np.asarray(v, _I64)


def _positions(x_shape: tuple, idx: Any, index_map: tuple, operand_batching: tuple,
               index_batching: tuple, windows: dict[int, tuple[int, int]],
               sizes: Sequence[int], out_rank: int, batch_positions: list[int],
               clamp: bool) -> tuple[Any, Any]:
    """Flat operand positions of every output element, and which windows fit (or None).

    ``windows[d] = (output axis, size)`` for each operand axis ``d`` the window
    spans; ``sizes[d]`` is the window's extent along every operand axis (1
    where collapsed). A start is clamped to fit when ``clamp``; otherwise
    the second result marks the index vectors whose window lies inside.
    """
    strides = [int(np.prod(x_shape[d + 1:], dtype=np.int64)) for d in range(len(x_shape))]
    flat: Any = np.zeros((1,) * out_rank, _I64)
    inside: Any = None
    for k, d in enumerate(index_map):
        start = _as_i64(_indexing.getitem(idx, (Ellipsis, k)))
        limit = x_shape[d] - sizes[d]
        if clamp:
            start = jnp.clip(start, 0, limit)
        else:
            fits = (start >= 0) & (start <= limit)
            inside = fits if inside is None else inside & fits
            start = jnp.clip(start, 0, limit)          # a safe place to read, masked later
        flat = flat + _placed(start, batch_positions, out_rank) * strides[d]
    batch_shape = P.shape_of(idx)[:-1]
    for od, idd in zip(operand_batching, index_batching):
        ones = [1] * out_rank
        ones[batch_positions[idd]] = batch_shape[idd]
        flat = flat + np.arange(batch_shape[idd], dtype=_I64).reshape(ones) * strides[od]
    for d, (axis, size) in windows.items():
        ones = [1] * out_rank
        ones[axis] = size
        flat = flat + np.arange(size, dtype=_I64).reshape(ones) * strides[d]
    return flat, inside


# ----- gather ------------------------------------------------------------------------

def _fill_for(dtype: np.dtype) -> Any:
    if dtype.kind in "fc":
        return np.nan
    if dtype.kind == "i":
        return np.iinfo(dtype).min
    if dtype.kind == "u":
        return np.iinfo(dtype).max
    return True


def gather(operand: Any, start_indices: Any, dimension_numbers: GatherDimensionNumbers,
           slice_sizes: Sequence[int], *, indices_are_sorted: bool = False,
           unique_indices: bool = False, mode: Any = None, fill_value: Any = None) -> Any:
    """XLA's gather: a window of ``slice_sizes`` at each index vector of ``start_indices``.

    See the module docstring for the dimension numbers. ``mode`` None is JAX's
    PROMISE_IN_BOUNDS, which clamps a window into the operand; FILL_OR_DROP
    (``"fill"``) returns ``fill_value`` for the whole of a window that does
    not fit (NaN for floats, the most negative int, the largest unsigned,
    True). ``indices_are_sorted`` and ``unique_indices`` are hints with
    nothing to speed up here.
    """
    name = "gather"
    how = _mode(name, mode, GatherScatterMode.PROMISE_IN_BOUNDS)
    x = _operand(name, operand, what="operand")
    idx = _index_array(name, "start_indices", start_indices)
    if not isinstance(dimension_numbers, GatherDimensionNumbers):
        raise TypeError(f"nanojax.lax.{name}: dimension_numbers must be a "
                        f"lax.GatherDimensionNumbers, got {describe(dimension_numbers)}")
    x_shape, idx_shape = tuple(x.shape), tuple(idx.shape)
    rank, batch_rank = len(x_shape), len(idx_shape) - 1
    sizes = _tuple(slice_sizes)
    if (len(sizes) != rank or not all(is_int(n) for n in sizes)
            or any(not 0 <= n <= d for n, d in zip(sizes, x_shape))):
        raise ValueError(f"nanojax.lax.{name}: slice_sizes {slice_sizes!r} must give one size "
                         f"per axis of the operand of shape {x_shape}, each between 0 and "
                         "the axis's length")
    sizes = tuple(int(n) for n in sizes)
    dn = dimension_numbers
    collapsed = _dims(name, "collapsed_slice_dims", dn.collapsed_slice_dims, rank)
    operand_batching = _dims(name, "operand_batching_dims", dn.operand_batching_dims, rank)
    index_batching = _dims(name, "start_indices_batching_dims",
                           dn.start_indices_batching_dims, batch_rank, ascending=False)
    index_map = _dims(name, "start_index_map", dn.start_index_map, rank, ascending=False)
    if len(index_map) != idx_shape[-1]:
        raise ValueError(f"nanojax.lax.{name}: start_index_map {index_map} must have one entry "
                         f"per element of an index vector, the last axis of start_indices "
                         f"of shape {idx_shape}")
    if set(collapsed) & set(operand_batching) or set(index_map) & set(operand_batching):
        raise ValueError(f"nanojax.lax.{name}: operand_batching_dims {operand_batching} must "
                         "not be collapsed_slice_dims nor in start_index_map")
    for d in collapsed + operand_batching:
        if sizes[d] != 1:
            raise ValueError(f"nanojax.lax.{name}: collapsed and batching axes must have "
                             f"slice size 1, but axis {d} has slice size {sizes[d]}")
    _check_batching(name, "start_indices_batching_dims", x_shape, idx_shape,
                    operand_batching, index_batching)
    kept = [d for d in range(rank) if d not in collapsed and d not in operand_batching]
    out_rank = batch_rank + len(kept)
    offset = _dims(name, "offset_dims", dn.offset_dims, out_rank)
    if len(offset) != len(kept):
        raise ValueError(f"nanojax.lax.{name}: offset_dims {offset} must name one output axis "
                         f"for each of the {len(kept)} operand axes that are neither "
                         "collapsed nor batching")
    batch_positions = [p for p in range(out_rank) if p not in offset]
    windows = {d: (axis, sizes[d]) for d, axis in zip(kept, offset)}
    clamp = how is not GatherScatterMode.FILL_OR_DROP
    flat, inside = _positions(x_shape, idx, index_map, operand_batching, index_batching,
                              windows, sizes, out_rank, batch_positions, clamp)
    out_shape = [1] * out_rank
    for p, n in zip(batch_positions, idx_shape[:-1]):
        out_shape[p] = n
    for axis, size in windows.values():
        out_shape[axis] = size
    flat = jnp.broadcast_to(flat, tuple(out_shape))
    size = int(np.prod(x_shape, dtype=np.int64))
    out = _indexing.getitem(jnp.reshape(x, (size,)), flat)
    if inside is not None:
        fill = _fill_for(x.dtype) if fill_value is None else fill_value
        fill = np.asarray(fill, x.dtype)
        out = jnp.where(_placed(inside, batch_positions, out_rank), out, fill)
    return out if isinstance(out, Tracer) else np.ascontiguousarray(out)


def _tuple(v: Any) -> tuple:
    try:
        return tuple(v)
    except TypeError:
        return (v,)


# ----- scatter -----------------------------------------------------------------------

def _scatter(name: str, operand: Any, scatter_indices: Any, updates: Any,
             dimension_numbers: ScatterDimensionNumbers, mode: Any, add: bool) -> Any:
    how = _mode(name, mode, GatherScatterMode.FILL_OR_DROP)
    x = _operand(name, operand, what="operand")
    idx = _index_array(name, "scatter_indices", scatter_indices)
    u = _operand(name, updates, what="updates")
    if not isinstance(dimension_numbers, ScatterDimensionNumbers):
        raise TypeError(f"nanojax.lax.{name}: dimension_numbers must be a "
                        f"lax.ScatterDimensionNumbers, got {describe(dimension_numbers)}")
    if u.dtype != x.dtype:
        if isinstance(updates, (int, float)) and not isinstance(updates, bool):
            u = np.asarray(updates, x.dtype)         # a Python number takes x's dtype
        else:
            raise TypeError(f"nanojax.lax.{name}: updates and operand must have the same "
                            f"dtype, got {u.dtype} and {x.dtype}")
    x_shape, idx_shape, u_shape = tuple(x.shape), tuple(idx.shape), tuple(u.shape)
    rank, batch_rank = len(x_shape), len(idx_shape) - 1
    dn = dimension_numbers
    window_dims = _dims(name, "update_window_dims", dn.update_window_dims, len(u_shape))
    inserted = _dims(name, "inserted_window_dims", dn.inserted_window_dims, rank)
    operand_batching = _dims(name, "operand_batching_dims", dn.operand_batching_dims, rank)
    index_batching = _dims(name, "scatter_indices_batching_dims",
                           dn.scatter_indices_batching_dims, batch_rank, ascending=False)
    index_map = _dims(name, "scatter_dims_to_operand_dims", dn.scatter_dims_to_operand_dims,
                      rank, ascending=False)
    if len(index_map) != idx_shape[-1]:
        raise ValueError(f"nanojax.lax.{name}: scatter_dims_to_operand_dims {index_map} must "
                         f"have one entry per element of an index vector, the last axis of "
                         f"scatter_indices of shape {idx_shape}")
    if set(inserted) & set(operand_batching) or set(index_map) & set(operand_batching):
        raise ValueError(f"nanojax.lax.{name}: operand_batching_dims {operand_batching} must "
                         "not be inserted_window_dims nor in scatter_dims_to_operand_dims")
    _check_batching(name, "scatter_indices_batching_dims", x_shape, idx_shape,
                    operand_batching, index_batching)
    kept = [d for d in range(rank) if d not in inserted and d not in operand_batching]
    if len(kept) != len(window_dims):
        raise ValueError(f"nanojax.lax.{name}: update_window_dims {window_dims} must name one "
                         f"axis of updates for each of the {len(kept)} operand axes that are "
                         "neither inserted nor batching")
    scatter_positions = [p for p in range(len(u_shape)) if p not in window_dims]
    if tuple(u_shape[p] for p in scatter_positions) != idx_shape[:-1]:
        raise ValueError(f"nanojax.lax.{name}: updates of shape {u_shape} must have the index "
                         f"batch axes {idx_shape[:-1]} of scatter_indices outside its window "
                         f"axes {window_dims}")
    sizes = [1] * rank
    windows = {}
    for d, axis in zip(kept, window_dims):
        if u_shape[axis] > x_shape[d]:
            raise ValueError(f"nanojax.lax.{name}: the window of updates of shape {u_shape} "
                             f"is larger than the operand of shape {x_shape} along its axis "
                             f"{d}")
        sizes[d] = u_shape[axis]
        windows[d] = (axis, u_shape[axis])
    clamp = how is GatherScatterMode.CLIP
    if clamp and 0 in x_shape:        # nowhere to clamp a window into: nothing is written
        return x if isinstance(x, Tracer) else np.array(x)
    flat, inside = _positions(x_shape, idx, index_map, operand_batching, index_batching,
                              windows, sizes, len(u_shape), scatter_positions, clamp)
    size = int(np.prod(x_shape, dtype=np.int64))
    target = jnp.reshape(x, (size,))
    if inside is not None:
        # A window that does not fit is written to one scratch slot past the end, cut off after.
        flat = jnp.where(_placed(inside, scatter_positions, len(u_shape)), flat, size)
        target = jnp.concatenate([target, np.zeros(1, x.dtype)])
    flat = jnp.broadcast_to(flat, u_shape)
    ref = _indexing.at(target)[flat]
    out = ref.add(u) if add else ref.set(u)
    if inside is not None:
        out = _indexing.getitem(out, (slice(0, size),))
    out = jnp.reshape(out, x_shape)
    return out if isinstance(out, Tracer) else np.ascontiguousarray(out)


def scatter_add(operand: Any, scatter_indices: Any, updates: Any,
                dimension_numbers: ScatterDimensionNumbers, *, indices_are_sorted: bool = False,
                unique_indices: bool = False, mode: Any = None) -> Any:
    """A copy of ``operand`` with each window of ``updates`` added at its index vector.

    Repeated indices add up. ``mode`` None is JAX's FILL_OR_DROP: a window
    that does not fit is dropped whole; ``"clip"`` moves it inside instead.
    """
    return _scatter("scatter_add", operand, scatter_indices, updates, dimension_numbers,
                    mode, True)


def scatter(operand: Any, scatter_indices: Any, updates: Any,
            dimension_numbers: ScatterDimensionNumbers, *, indices_are_sorted: bool = False,
            unique_indices: bool = False, mode: Any = None) -> Any:
    """A copy of ``operand`` with each window of ``updates`` written at its index vector.

    Where windows overlap, one of the writes wins (the last, here; JAX leaves
    it unspecified), and so does the gradient. ``mode`` as for ``scatter_add``.
    """
    return _scatter("scatter", operand, scatter_indices, updates, dimension_numbers, mode,
                    False)
