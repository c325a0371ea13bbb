"""Indexing primitives: gather (``x[idx]``), scatter-add and scatter (``x.at[idx]``)."""

from __future__ import annotations

from builtins import max as builtins_max

from collections.abc import Callable
from typing import Any

import numpy as np

from nanojax.core import Lowering, PerPrimitive, Primitive, ShapedArray
from nanojax.primitives.base import (_front_with_rank, _register, dtype_of, move_to_front,
                                     shape_of)

# ----- Indexing: gather, scatter-add, scatter ---------------------------------

class Indexer:
    """A NumPy index with its integer arrays taken out as operands.

    ``items`` holds ints, slices (as tuples), ``None``, ``Ellipsis`` and
    ``ARRAY`` placeholders; the i-th placeholder is filled by the i-th index
    operand. Hashable, so it can be a primitive's parameter.
    """

    __slots__ = ("items",)
    ARRAY = "#"

    def __init__(self, items: tuple) -> None:
        self.items = items

    @classmethod
    def from_static(cls, index: tuple) -> Indexer:
        return cls(tuple((s.start, s.stop, s.step) if isinstance(s, slice) else s
                         for s in index))

    def build(self, arrays: Any) -> tuple:
        arrays = iter(arrays)
        return tuple(next(arrays) if it == self.ARRAY else
                     slice(*it) if isinstance(it, tuple) else it for it in self.items)

    @property
    def num_arrays(self) -> int:
        return sum(1 for it in self.items if it == self.ARRAY)

    def __eq__(self, other):
        return isinstance(other, Indexer) and self.items == other.items

    def __hash__(self):
        return hash(self.items)

    def __str__(self):
        counter = iter(range(1000))         # numbers the index arrays in order

        def fmt(it):
            if it == self.ARRAY:
                return f"#{next(counter)}"
            if isinstance(it, tuple):
                start, stop, step = ("" if v is None else v for v in it)
                return f"{start}:{stop}" + (f":{step}" if step != "" else "")
            return "..." if it is Ellipsis else str(it)
        return "[" + ",".join(fmt(it) for it in self.items) + "]"

    __repr__ = __str__


def _dummy(aval: ShapedArray) -> np.ndarray:
    # A zero-stride stand-in: indexing it costs no memory, only shape logic.
    return np.broadcast_to(np.zeros((), aval.dtype), aval.shape)


def _index_arrays_aval(name, idx):
    for a in idx:
        if a.dtype.kind not in "iu":
            raise IndexError(f"{name}: index arrays must be integers, got {a.dtype} "
                             "(boolean masks need concrete values: use jnp.where instead)")
    return [np.zeros(a.shape, np.intp) for a in idx]


def _gather_aval(x, *idx, indexer):
    out = _dummy(x)[indexer.build(_index_arrays_aval("gather", idx))]
    return ShapedArray(np.shape(out), x.dtype, x.weak_type)


def _scatter_impl(add_into: bool) -> Callable:
    def impl(x, updates, *idx, indexer):
        out = np.array(x, copy=True)
        index = indexer.build(idx)
        if not add_into:
            out[index] = updates
        elif indexer.num_arrays:
            np.add.at(out, index, updates)     # sums repeated indices, unlike +=
        else:
            out[index] += updates
        return out
    return impl


def _scatter_aval(name):
    def abstract_eval(x, updates, *idx, indexer):
        target = np.shape(_dummy(x)[indexer.build(_index_arrays_aval(name, idx))])
        try:
            np.broadcast_shapes(updates.shape, target)
            if np.broadcast_shapes(updates.shape, target) != target:
                raise ValueError
        except ValueError:
            raise ValueError(f"{name}: updates of shape {updates.shape} do not fit the "
                             f"indexed region of shape {target}") from None
        return ShapedArray(x.shape, x.dtype, x.weak_type)
    return abstract_eval


def _batched_index(size, idx, idx_dims, indexer, x_ndim):
    """A batched index: an arange over the batch axis leads the index arrays.

    NumPy puts the dimensions of advanced (array) indices first when they are
    not adjacent, and at the first one's place when they are; either way, an
    arange in front puts the batch axis first. Without index arrays a leading
    full slice does the same. The third result is the permutation that takes
    the batched result to (batch, one example's layout), or None if it is that
    already (see ``_example_layout``).
    """
    if not idx:
        return Indexer(((None, None, None),) + indexer.items), [], None
    rank = builtins_max(len(shape_of(i)) - (d is not None) for i, d in zip(idx, idx_dims))
    moved = [i if d is None else _front_with_rank(i, d, rank) for i, d in zip(idx, idx_dims)]
    batch_positions = np.arange(size).reshape((size,) + (1,) * rank)
    return (Indexer((Indexer.ARRAY,) + indexer.items), [batch_positions] + moved,
            _example_layout(indexer, x_ndim, rank))


def _example_layout(indexer, x_ndim, n_adv):
    """Undo what the leading arange does to an adjacent block of advanced indices.

    In one example, ``x[:, i]`` keeps i's dimensions where i stands. With the
    arange in front the block is no longer adjacent to it, so NumPy moves
    those dimensions to the front, right after the batch axis; this
    permutation moves them back behind the dimensions that came before them.
    (Ints count as advanced indices when arrays are present; None and ``...``
    split a block, even when ``...`` stands for no axes.)
    """
    items = indexer.items
    adv = [k for k, it in enumerate(items) if it == Indexer.ARRAY or type(it) is int]
    if adv[0] == 0 or adv[-1] - adv[0] + 1 != len(adv):
        return None
    consumed = sum(1 for it in items if it is not None and it is not Ellipsis)
    widths = [x_ndim - consumed if it is Ellipsis else 0 if k in adv else 1
              for k, it in enumerate(items)]
    # Axes after the last index item are kept whole, as if a "..." ended the index.
    trailing = 0 if Ellipsis in items else x_ndim - consumed
    before, out_ndim = sum(widths[:adv[0]]), n_adv + sum(widths) + trailing
    return ((0,) + tuple(range(1 + n_adv, 1 + n_adv + before)) + tuple(range(1, 1 + n_adv))
            + tuple(range(1 + n_adv + before, 1 + out_ndim)))


def _gather_batch(size, vals, dims, *, indexer):
    x = move_to_front(vals[0], dims[0], size)
    new_indexer, idx, perm = _batched_index(size, vals[1:], dims[1:], indexer,
                                            len(shape_of(x)) - 1)
    out = gather(x, *idx, indexer=new_indexer)
    return (out if perm is None else transpose(out, perm)), 0


def _scatter_batch(prim):
    def rule(size, vals, dims, *, indexer):
        x = move_to_front(vals[0], dims[0], size)
        idx_avals = [ShapedArray(shape_of(i)[1:] if d is not None else shape_of(i), np.intp)
                     for i, d in zip(vals[2:], dims[2:])]
        region = _gather_aval(ShapedArray(shape_of(x)[1:], dtype_of(x)), *idx_avals,
                              indexer=indexer).shape
        new_indexer, idx, perm = _batched_index(size, vals[2:], dims[2:], indexer,
                                                len(shape_of(x)) - 1)
        if perm is None:
            u = vals[1] if dims[1] is None else _front_with_rank(vals[1], dims[1], len(region))
        else:       # updates in one example's layout, permuted to the batched one
            u = move_to_front(vals[1], dims[1], size)
            u = transpose(_front_with_rank(u, 0, len(region)),
                          tuple(int(i) for i in np.argsort(perm)))
        return prim.bind(x, u, *idx, indexer=new_indexer), 0
    return rule


def _takes_everything(ins, params, known):
    """``x[:, 0:1]`` of an (n, 1) array: slices that keep every element, in order, are ``x``."""
    items, x = params["indexer"].items, ins[0]
    shape = x.aval.shape
    if len(ins) != 1 or len(items) > len(shape):
        return None
    for it, n in zip(items, shape):
        if not isinstance(it, tuple) or slice(*it).indices(n) != (0, n, 1):
            return None
    return x


def _lower_basic_index(w, ins, params, in_avals, out_aval):
    """Ints and slices only: ``x[index]`` with the index tuple made once, not per call."""
    indexer = params["indexer"]
    if indexer.num_arrays or not in_avals[0].shape:
        return None
    return f"{ins[0]}[{w.bind(indexer.build(()))}]", False


# The index operands vary in number, so the vjp is one rule for all operands.
# Basic indexing (ints, slices) returns a view; integer arrays always copy.
gather_p = _register(Primitive(
    "gather", lambda x, *idx, indexer: np.asarray(x)[indexer.build(idx)], _gather_aval,
    vjp=lambda g, ans, x, *idx, indexer: (
        scatter_add(np.zeros(shape_of(x), dtype_of(g)), g, *idx, indexer=indexer),
        *([None] * len(idx))),
    jvp=lambda primals, tangents, ans, *, indexer: (
        None if tangents[0] is None else gather(tangents[0], *primals[1:], indexer=indexer)),
    batch=_gather_batch, may_alias=lambda params: params["indexer"].num_arrays == 0,
    simplify=_takes_everything, lowering=Lowering(custom=_lower_basic_index)))


def _scatter_jvp(prim):
    def jvp(primals, tangents, ans, *, indexer):
        (x, u), (tx, tu) = primals[:2], tangents[:2]
        if tx is None and tu is None:
            return None
        tx = np.zeros(shape_of(x), dtype_of(ans)) if tx is None else tx
        tu = np.zeros(shape_of(u), dtype_of(ans)) if tu is None else tu
        return prim.bind(tx, tu, *primals[2:], indexer=indexer)
    return jvp


# Both scatters start from a copy of x: no aliasing.
scatter_add_p = _register(Primitive(
    "scatter-add", _scatter_impl(True), _scatter_aval("scatter-add"),
    vjp=lambda g, ans, x, u, *idx, indexer: (
        g, gather(g, *idx, indexer=indexer), *([None] * len(idx))),
    jvp=PerPrimitive(_scatter_jvp), batch=PerPrimitive(_scatter_batch), may_alias=False,
    layout="operands"))

def _written_pull(g, x, idx, indexer):
    """The pull on a scatter's updates: the output's pull where each update was written.

    With repeated positions only the last update is kept (NumPy's
    assignment, eagerly and under jit), so the others get no pull: each
    update's number is scattered and read back, and an update whose own
    number comes back is the one that was kept.
    """
    pulled = gather(g, *idx, indexer=indexer)
    if not idx:                      # basic indexing: every position is written once
        return pulled
    shape = shape_of(pulled)
    numbers = np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)
    owner = scatter_p.bind(np.full(shape_of(x), -1), numbers, *idx, indexer=indexer)
    kept = eq(gather(owner, *idx, indexer=indexer), numbers)
    return mul(pulled, convert_element_type(kept, dtype_of(pulled)))


scatter_p: Primitive = _register(Primitive(
    "scatter", _scatter_impl(False), _scatter_aval("scatter"),
    vjp=lambda g, ans, x, u, *idx, indexer: (
        scatter_p.bind(g, 0.0, *idx, indexer=indexer), _written_pull(g, x, idx, indexer),
        *([None] * len(idx))),
    jvp=PerPrimitive(_scatter_jvp), batch=PerPrimitive(_scatter_batch), may_alias=False,
    layout="operands"))


# ----- The functions rules are written with (thin binds) ------------------------

def gather(x, *idx, indexer): return gather_p.bind(x, *idx, indexer=indexer)
def scatter_add(x, u, *idx, indexer): return scatter_add_p.bind(x, u, *idx, indexer=indexer)


from nanojax.primitives.elementwise import convert_element_type, eq, mul  # noqa: E402
from nanojax.primitives.shapes import transpose  # noqa: E402
