"""Indexing traced arrays: ``x[idx]`` and ``x.at[idx].set/add/get``.

An index becomes a ``gather`` (or a scatter, for ``.at``) whose integer
arrays are operands and whose ints, slices, ``None`` and ``...`` are a
static ``Indexer``. A boolean mask must be concrete: its positions become
integer arrays. Before anything is bound, the index is tried by NumPy itself
on a zero-cost stand-in of ``x``'s shape, so a bad index (a mask of the
wrong length, a float slice bound, too many indices) raises NumPy's error,
under every transformation as without one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nanojax.array import returns_arrays

import nanojax.numpy as jnp
from nanojax import primitives as P
from nanojax.core import Tracer, concrete_value
from nanojax.numpy import _args
from nanojax.numpy._creation import plain_asarray
from nanojax.primitives import Indexer

GETITEM = "nanojax.numpy.ndarray.__getitem__"
AT = "nanojax.numpy.ndarray.at"
_NUMBERS = frozenset({float, int, np.float64, np.float32, np.int64, np.int32})


def _concrete_int(v: Any, name: str) -> Any:
    if v is None:
        return None
    v = concrete_value(v, f"{name}: a slice bound")
    if isinstance(v, np.ndarray) and v.ndim == 0:
        v = v[()]
    if not isinstance(v, (int, np.integer)) or isinstance(v, (bool, np.bool_)):
        raise _args.error(name, TypeError, "slice indices must be integers or None, got "
                    f"{type(v).__name__} ({v!r:.30})")
    return int(v)


def _prepare(item: Any, name: str) -> tuple[Any, Any]:
    """One index item as (what nanojax binds, what NumPy's check sees)."""
    if item is None or item is Ellipsis:
        return item, item
    if isinstance(item, (bool, np.bool_)):
        raise _args.error(name, IndexError, "a lone True/False index is not supported on traced "
                    "values; use None to add an axis, or a boolean array")
    if isinstance(item, (int, np.integer)):
        return int(item), int(item)
    if isinstance(item, slice):
        bounds = tuple(_concrete_int(v, name) for v in (item.start, item.stop, item.step))
        return bounds, slice(*bounds)
    if isinstance(item, (list, tuple)):
        item = plain_asarray(item)
    if isinstance(item, Tracer):
        if item.dtype == np.bool_:
            item = np.asarray(concrete_value(item, f"{name}: a boolean mask"))
        else:
            return item, np.zeros(item.shape, item.dtype if item.dtype.kind not in "iu"
                                  else np.intp)
    if isinstance(item, np.ndarray):
        return item, item
    if isinstance(item, (np.generic, float, complex, str, bytes)):
        return item, item                  # NumPy's check says what is wrong with it
    raise _args.error(name, IndexError, f"unsupported index {item!r:.50} of type "
                f"{type(item).__name__}; use ints, slices, None, ... or integer arrays")


def _indexer(x: Any, idx: Any, name: str) -> tuple[Indexer, list, tuple]:
    """The static Indexer, its index operands, and the indexed region's shape."""
    items = idx if isinstance(idx, tuple) else (idx,)
    prepared = [_prepare(item, name) for item in items]
    try:
        region = _args.dummy(P.shape_of(x))[tuple(probe for _, probe in prepared)].shape
    except (IndexError, TypeError, ValueError) as err:
        raise _args.error(name, type(err) if type(err) in (IndexError, TypeError, ValueError)
                    else IndexError, str(err)) from None
    arrays: list = []
    out: list = []
    for item, _ in prepared:
        if isinstance(item, np.ndarray) and item.dtype == np.bool_:
            positions = np.nonzero(item)
            arrays.extend(positions)
            out.extend([Indexer.ARRAY] * len(positions))
        elif isinstance(item, (np.ndarray, Tracer)):
            arrays.append(item)
            out.append(Indexer.ARRAY)
        else:
            out.append(item)
    return Indexer(tuple(out)), arrays, region


def getitem(x: Any, idx: Any) -> Any:
    """``x[idx]`` for ints, slices, None, ``...`` and integer (or mask) arrays."""
    if not isinstance(x, Tracer) and not _args.has_tracer(idx if isinstance(idx, tuple)
                                                         else (idx,)):
        try:
            return np.asarray(x)[idx]
        except (IndexError, TypeError, ValueError) as err:
            raise _args.reworded("ndarray.__getitem__", err) from None
    indexer, arrays, _ = _indexer(x, idx, GETITEM)
    return P.gather(_args.operand(x, "ndarray.__getitem__"), *arrays, indexer=indexer)


_MODES = (None, "promise_in_bounds", "clip", "fill", "drop")


def _with_mode(x: Any, idx: Any, mode: Any, fill_value: Any, name: str) -> tuple[Any, Any, Any]:
    """``x`` and ``idx`` rewritten for JAX's out-of-bounds ``mode``.

    ``'clip'`` clamps each integer index into its axis. ``'fill'`` (and
    ``'drop'``) pads every axis indexed by integers with one slot, filled
    with ``fill_value``, and sends out-of-range indices there: a get reads
    the fill value, an update lands in the slot and is cut away after. The
    third result is the slice that cuts the pad off again (or None).
    """
    if mode not in _MODES:
        raise _args.error(name, ValueError, f"mode must be one of {_MODES[1:]}, got {mode!r}")
    if mode in (None, "promise_in_bounds"):
        return x, idx, None
    items = list(idx) if isinstance(idx, tuple) else [idx]
    shape = P.shape_of(x)
    consumed = sum(1 for it in items if it is not None and it is not Ellipsis
                   and not (isinstance(it, np.ndarray) and it.dtype == np.bool_))
    consumed += sum(it.ndim for it in items if isinstance(it, np.ndarray) and it.dtype == np.bool_)
    axis, padded = 0, []
    for k, it in enumerate(items):
        if it is None:
            continue
        if it is Ellipsis:
            axis += len(shape) - consumed
            continue
        if isinstance(it, (list, tuple)):
            it = items[k] = plain_asarray(it)
        integer = (_args.is_int(it) or (isinstance(it, (np.ndarray, Tracer))
                                        and P.dtype_of(it).kind in "iu"))
        if integer and axis < len(shape):
            d = shape[axis]
            i = jnp.where(jnp.less(it, 0), jnp.add(it, d), it)
            if mode == "clip":
                items[k] = jnp.clip(i, 0, max(d - 1, 0))
            else:
                inside = jnp.logical_and(jnp.greater_equal(i, 0), jnp.less(i, d))
                items[k] = jnp.where(inside, i, d)
                padded.append(axis)
        axis += it.ndim if isinstance(it, np.ndarray) and it.dtype == np.bool_ else 1
    if padded:
        widths = [(0, 1) if a in padded else (0, 0) for a in range(len(shape))]
        fill = 0 if fill_value is None else fill_value
        x = jnp.pad(x, widths, constant_values=np.asarray(fill, P.dtype_of(x)))
    cut = tuple(slice(0, n) for n in shape) if padded else None
    return x, tuple(items), cut


class _IndexUpdateRef:
    """``x.at[idx]``: each method returns a new array, with JAX's keywords.

    ``mode`` says what an out-of-range index does: None (NumPy's error),
    ``'promise_in_bounds'``, ``'clip'`` or ``'fill'`` (a get reads
    ``fill_value``, an update is dropped). ``indices_are_sorted`` is accepted
    for JAX's signature; ``unique_indices=True`` promises there are no
    repeated positions.
    """

    __slots__ = ("x", "idx")

    def __init__(self, x: Any, idx: Any) -> None:
        self.x, self.idx = x, idx

    def get(self, *, indices_are_sorted: bool = False, unique_indices: bool = False,
            mode: Any = None, fill_value: Any = None) -> Any:
        if mode in (None, "promise_in_bounds"):
            return getitem(self.x, self.idx)
        x, idx, _ = _with_mode(_args.operand(self.x, "ndarray.at"), self.idx, mode,
                               fill_value, AT)
        return getitem(x, idx)

    def set(self, values: Any, *, indices_are_sorted: bool = False,
            unique_indices: bool = False, mode: Any = None) -> Any:
        if mode is None and type(values) in _NUMBERS:
            out = self._eager(values, add=False)
            if out is not None:
                return out
        return self._moded(mode, lambda ref: ref._scatter(P.scatter_p, values))

    def add(self, values: Any, *, indices_are_sorted: bool = False,
            unique_indices: bool = False, mode: Any = None) -> Any:
        if mode is None and type(values) in _NUMBERS:
            out = self._eager(values, add=True)
            if out is not None:
                return out
        return self._moded(mode, lambda ref: ref._scatter(P.scatter_add_p, values))

    def _eager(self, value: Any, add: bool) -> Any:
        """The scatter's own NumPy work, done at once when nothing is traced and the
        update is one number: ``x.at[i].set(0.0)`` costs a copy and an assignment.

        None when the call needs the general path (a traced value, a lone bool
        index, or anything NumPy refuses: that path says what is wrong).
        """
        x, idx = self.x, self.idx
        items = idx if type(idx) is tuple else (idx,)
        if not isinstance(x, np.ndarray) or x.dtype.kind not in "biufc" or any(
                isinstance(i, (Tracer, bool, np.bool_)) or
                (type(i) in (list, tuple) and _args.has_tracer(i)) for i in items):
            return None
        common = np.result_type(x.dtype, value)       # promoted, then cast back (as above)
        out = np.array(x, dtype=common, copy=True, subok=False)
        try:
            if add:
                np.add.at(out, idx, value)     # repeated indices sum, as scatter-add
            else:
                out[idx] = value
        except (IndexError, TypeError, ValueError):
            return None
        return out if common == x.dtype else out.astype(x.dtype)

    def subtract(self, values: Any, *, indices_are_sorted: bool = False,
                 unique_indices: bool = False, mode: Any = None) -> Any:
        return self._moded(mode, lambda ref: ref._scatter(
            P.scatter_add_p, jnp.negative(_args.operand(values, "ndarray.at"))))

    def multiply(self, values: Any, *, indices_are_sorted: bool = False,
                 unique_indices: bool = False, mode: Any = None) -> Any:
        return self._moded(mode, lambda ref: ref._combine(jnp.multiply, values))

    mul = multiply

    def divide(self, values: Any, *, indices_are_sorted: bool = False,
               unique_indices: bool = False, mode: Any = None) -> Any:
        return self._moded(mode, lambda ref: ref._combine(jnp.divide, values))

    def power(self, values: Any, *, indices_are_sorted: bool = False,
              unique_indices: bool = False, mode: Any = None) -> Any:
        return self._moded(mode, lambda ref: ref._combine(jnp.power, values))

    def min(self, values: Any, *, indices_are_sorted: bool = False,
            unique_indices: bool = False, mode: Any = None) -> Any:
        return self._moded(mode, lambda ref: ref._combine(jnp.minimum, values))

    def max(self, values: Any, *, indices_are_sorted: bool = False,
            unique_indices: bool = False, mode: Any = None) -> Any:
        return self._moded(mode, lambda ref: ref._combine(jnp.maximum, values))

    def apply(self, func: Any, *, indices_are_sorted: bool = False,
              unique_indices: bool = False, mode: Any = None) -> Any:
        """``func`` applied at the indexed entries (once per index, as in JAX)."""
        return self._moded(mode, lambda ref: ref._combine(lambda old, _: func(old), 0.0))

    def _moded(self, mode: Any, update: Any) -> Any:
        if mode in (None, "promise_in_bounds"):
            return update(self)
        x, idx, cut = _with_mode(_args.operand(self.x, "ndarray.at"), self.idx, mode, None, AT)
        out = update(_IndexUpdateRef(x, idx))
        return out if cut is None else getitem(out, cut)

    def _scatter(self, prim: Any, values: Any) -> Any:
        x = _args.operand(self.x, "ndarray.at")
        indexer, arrays, region = _indexer(x, self.idx, AT)
        values = _args.operand(values, "ndarray.at")
        dtype = P.dtype_of(x)
        if P.dtype_of(values) != dtype:
            # As JAX: both promoted, updated, and the result cast back to x's dtype
            # (an int array's .add(2.5) adds 2.5, then truncates).
            common = np.result_type(dtype, values if not isinstance(values, Tracer)
                                    else P.dtype_of(values))
            if common != dtype:
                return jnp.astype(_IndexUpdateRef(jnp.astype(x, common), self.idx)._scatter(
                    prim, jnp.astype(values, common)), dtype)
            values = jnp.astype(values, dtype)
        try:
            np.broadcast_to(_args.dummy(P.shape_of(values)), region)
        except ValueError:
            raise _args.error(AT, ValueError, f"updates of shape {P.shape_of(values)} do not fit "
                        f"the indexed region of shape {region}") from None
        return prim.bind(x, values, *arrays, indexer=indexer)

    def _combine(self, op: Any, values: Any) -> Any:
        """``x[idx] = op(x[idx], values)``, one update after another where ``idx`` repeats
        a position, as a sequential scatter applies them.

        The indexed entries are found as flat positions (``idx`` applied to
        the entries' numbers); updates that share a position are applied in
        rounds, each round a gather and a scatter of distinct positions. A
        traced index cannot be inspected: its positions are taken as
        distinct (JAX's ``unique_indices``).
        """
        x = _args.operand(self.x, "ndarray.at")
        _, _, region = _indexer(x, self.idx, AT)
        values = _args.operand(values, "ndarray.at")
        try:
            np.broadcast_to(_args.dummy(P.shape_of(values)), region)
        except ValueError:
            raise _args.error(AT, ValueError, f"updates of shape {P.shape_of(values)} do not "
                              f"fit the indexed region of shape {region}") from None
        shape = P.shape_of(x)
        numbers = np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.int64).reshape(shape)
        positions = jnp.ravel(getitem(numbers, self.idx))
        updates = jnp.ravel(jnp.broadcast_to(values, region))
        flat = jnp.ravel(x)
        if isinstance(positions, Tracer):
            rounds = [np.arange(P.shape_of(positions)[0])]
        else:
            order = np.argsort(positions, kind="stable")
            ranked = np.empty_like(order)
            first = np.r_[True, positions[order][1:] != positions[order][:-1]]
            starts = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
            ranked[order] = np.arange(len(order)) - starts
            rounds = [np.flatnonzero(ranked == r) for r in range(int(ranked.max(initial=-1)) + 1)]
        for picked in rounds:
            where_ = take(positions, picked) if isinstance(positions, Tracer) else positions[picked]
            new = op(getitem(flat, where_), take(updates, picked))
            flat = _IndexUpdateRef(flat, where_)._scatter(P.scatter_p, jnp.astype(
                new, P.dtype_of(flat)))
        return jnp.reshape(flat, shape)


# Eager updates hand out arrays with JAX's methods, as every public function does.
for _method in ("get", "set", "add", "subtract", "multiply", "mul", "divide", "power", "min",
                "max", "apply"):
    setattr(_IndexUpdateRef, _method, returns_arrays(getattr(_IndexUpdateRef, _method)))
del _method


class _IndexUpdateHelper:
    """``x.at[idx].set(v)``, ``.add(v)``, ``.get()``: new arrays, x untouched."""

    __slots__ = ("x",)

    def __init__(self, x: Any) -> None:
        self.x = x

    def __getitem__(self, idx: Any) -> _IndexUpdateRef:
        return _IndexUpdateRef(self.x, idx)


def at(x: Any) -> _IndexUpdateHelper:
    """Functional updates for plain NumPy arrays too: ``jnp.at(x)[i].set(v)``.

    Traced values have ``x.at[i].set(v)`` as in JAX; a NumPy array cannot
    grow an ``.at`` attribute, so code that must run on both spells it this
    way. Neither form modifies ``x``.

    >>> import nanojax.numpy as jnp
    >>> x = jnp.zeros(3)
    >>> jnp.at(x)[1].add(5.0), x
    (array([0., 5., 0.]), array([0., 0., 0.]))
    """
    return _IndexUpdateHelper(x)


def take_along_axis(arr: Any, indices: Any, axis: int | None) -> Any:
    """``numpy.take_along_axis``: pick ``arr``'s entries at ``indices`` along ``axis``.

    A gather with an arange standing in for every other axis, so its pull is
    a scatter-add into the picked places only (a one-hot product would turn
    a -inf logit into NaN: -inf * 0).
    """
    name = "take_along_axis"
    if not isinstance(arr, Tracer) and not isinstance(indices, Tracer):
        return _args.call_numpy(name, np.take_along_axis, arr, indices, axis=axis)
    arr = _args.operand(arr, name)
    indices = _args.operand(indices, name)
    if P.dtype_of(indices).kind not in "iu":
        raise IndexError(f"nanojax.numpy.{name}: `indices` must be an integer array, got "
                         f"{P.dtype_of(indices)}")
    if axis is None:
        arr, axis = jnp.ravel(arr), 0
    ndim = len(P.shape_of(arr))
    if len(P.shape_of(indices)) != ndim:
        raise ValueError(f"nanojax.numpy.{name}: `indices` and `arr` must have the same "
                         f"number of dimensions, got {len(P.shape_of(indices))} and {ndim}")
    axis = _args.axis_index(name, axis, ndim)
    out_shape = tuple(np.broadcast_shapes(
        tuple(1 if i == axis else d for i, d in enumerate(P.shape_of(arr))),
        tuple(1 if i == axis else d for i, d in enumerate(P.shape_of(indices)))))
    full_shape = tuple(P.shape_of(indices)[i] if i == axis else out_shape[i]
                       for i in range(ndim))
    index = []
    for i in range(ndim):
        if i == axis:
            index.append(jnp.broadcast_to(indices, full_shape))
        else:
            positions = np.arange(P.shape_of(arr)[i]).reshape(
                tuple(-1 if j == i else 1 for j in range(ndim)))
            index.append(np.broadcast_to(positions, full_shape))
    return getitem(arr, tuple(index))


def take(a: Any, indices: Any, axis: int | None = None) -> Any:
    """``numpy.take``: the entries at ``indices`` along ``axis`` (of the flat array if None)."""
    if not isinstance(a, Tracer) and not isinstance(indices, Tracer):
        return _args.call_numpy("take", np.take, a, indices, axis=axis)
    a = _args.operand(a, "take")
    if axis is None:
        a, axis = jnp.ravel(a), 0
    axis = _args.axis_index("take", axis, len(P.shape_of(a)))
    return getitem(a, (slice(None),) * axis + (plain_asarray(indices),))


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """``numpy.diagonal``: the diagonal of the (axis1, axis2) planes, as the last axis."""
    if not isinstance(a, Tracer):
        return _args.call_numpy("diagonal", np.diagonal, a, offset=offset, axis1=axis1,
                                axis2=axis2)
    ndim = a.ndim
    if ndim < 2:
        raise ValueError("nanojax.numpy.diagonal: the array must have at least 2 dimensions")
    i, j = (_args.axis_index("diagonal", ax, ndim) for ax in (axis1, axis2))
    if i == j:
        raise ValueError("nanojax.numpy.diagonal: axis1 and axis2 cannot be the same")
    if not _args.is_int(offset):
        raise TypeError(f"nanojax.numpy.diagonal: offset must be an int, got {offset!r}")
    rest = [k for k in range(ndim) if k not in (i, j)]
    x = P.transpose(a, tuple(rest) + (i, j)) if rest + [i, j] != list(range(ndim)) else a
    rows, cols = a.shape[i], a.shape[j]
    start_row, start_col = (0, offset) if offset >= 0 else (-offset, 0)
    n = max(0, min(rows - start_row, cols - start_col))
    return getitem(x, (Ellipsis, np.arange(start_row, start_row + n),
                       np.arange(start_col, start_col + n)))


def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """``numpy.trace``: the sum along a diagonal."""
    if not isinstance(a, Tracer):
        return _args.call_numpy("trace", np.trace, a, offset=offset, axis1=axis1, axis2=axis2)
    return jnp.sum(diagonal(a, offset, axis1, axis2), axis=-1)


def repeat(a: Any, repeats: Any, axis: int | None = None) -> Any:
    """``numpy.repeat``: each entry ``repeats`` times (the counts must be concrete)."""
    if not isinstance(a, Tracer):
        return _args.call_numpy("repeat", np.repeat, a, repeats, axis=axis)
    if isinstance(repeats, Tracer):
        repeats = concrete_value(repeats, "nanojax.numpy.repeat: the repeat counts")
    if axis is None:
        a, axis = jnp.ravel(a), 0
    axis = _args.axis_index("repeat", axis, a.ndim)
    try:
        positions = np.repeat(np.arange(a.shape[axis]), repeats)
    except (TypeError, ValueError) as err:
        raise _args.reworded("repeat", err) from None
    return take(a, positions, axis=axis)
