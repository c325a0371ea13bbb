"""Collectives over a named axis: ``psum``, ``all_gather``, ``axis_index`` and the rest.

``vmap(f, axis_name="i")`` names its batch axis; inside it, ``lax.psum(x,
"i")`` sums ``x`` over the examples of that axis and hands every example the
total, as a program running on one device per example would see it. On one
CPU a collective is exact: its operand is a batch, and reducing, gathering
or permuting along the batch axis is one NumPy call.

A collective is a primitive whose ``bind`` looks for the trace that named
its axis, the innermost ``BatchTrace`` with that name on this thread's
stack, even when the operand is not batched by it (then the operand is the
same for every example: ``psum`` multiplies it by the axis size,
``all_gather`` broadcasts it, ``axis_index`` is an iota). That trace applies
the collective's ``batch_named`` rule; any trace above it (``grad``, ``jvp``,
``jit``'s staging, a ``vmap`` of another axis) processes the collective as
it processes any primitive, with the rules of the block: ``jvp``, ``vjp``
and ``batch`` (a collective over another axis commutes with this batching,
so the rule just shifts axis parameters). No name bound: ``NameError``, as
in JAX.
"""

from __future__ import annotations

import math
from typing import Any
from collections.abc import Callable, Hashable

import numpy as np

from nanojax import primitives as P
from nanojax.batching import BatchTrace, BatchTracer, move_axis
from nanojax.core import (NOT_BATCHED, ClosedJaxpr, Jaxpr, Primitive, ShapedArray, Tracer,
                          _state, innermost_staging_trace)
from nanojax.errors import UnexpectedTracerError
from nanojax.numpy._args import check_numeric
from nanojax.primitives.base import _register, dtype_of, move_to_front, shape_of
from nanojax.primitives.indexing import Indexer
from nanojax.tree_util import tree_map

__all__ = ["psum", "pmean", "pmax", "pmin", "all_gather", "psum_scatter", "ppermute",
           "axis_index", "axis_size", "all_to_all", "Collective", "find_axis", "axis_env",
           "uses_named_axes"]


# ----- Finding the axis by name ----------------------------------------------------

def find_axis(name: Hashable, who: str) -> BatchTrace:
    """The innermost live ``BatchTrace`` named ``name``, or JAX's ``NameError``."""
    for trace in reversed(_state.stack):
        if type(trace) is BatchTrace and trace.axis_name == name:
            return trace
    bound = [t.axis_name for t in _state.stack
             if type(t) is BatchTrace and t.axis_name is not None]
    raise NameError(f"{who}: unbound axis name: {name!r}; a collective runs inside "
                    f"nanojax.vmap or nanojax.pmap with axis_name={name!r} (names bound "
                    f"here: {', '.join(map(repr, bound)) if bound else 'none'})")


def axis_env() -> tuple:
    """The named axes in scope, outermost first: ``((name, size), ...)``.

    ``jit`` keys its cache on it, since a collective's meaning (and an
    ``all_gather``'s shape) depends on the sizes of the axes around the call.
    """
    stack = _state.stack
    if not stack:                      # eager calls: the common case, kept cheap
        return ()
    return tuple((t.axis_name, int(t.axis_size)) for t in stack
                 if type(t) is BatchTrace and t.axis_name is not None)


def uses_named_axes(jaxpr: Jaxpr) -> bool:
    """Does the jaxpr (or a loop's or branch's body in it) apply a collective?"""
    for eqn in jaxpr.eqns:
        if isinstance(eqn.primitive, Collective):
            return True
        for p in eqn.params.values():
            bodies = p if isinstance(p, tuple) else (p,)
            if any(isinstance(b, ClosedJaxpr) and uses_named_axes(b.jaxpr) for b in bodies):
                return True
    return False


# ----- The primitive -----------------------------------------------------------------

class Collective(Primitive):
    """A primitive over the named axis ``params["axis_name"]``.

    ``batch_named(axis_size, vals, dims, **params)`` is its rule at the
    ``BatchTrace`` of that name (``batch`` is the rule at any other); ``bind``
    sends the application there unless a trace above it has a say first.
    ``impl`` binds too: outside a ``vmap`` of the name there is no value to
    compute, only the ``NameError``.
    """

    __slots__ = ("batch_named", "public")

    def __init__(self, name: str, abstract_eval: Callable, *, batch_named: Callable,
                 **rules: Any) -> None:
        super().__init__(name, self._impl, abstract_eval, **rules)
        self.batch_named = batch_named
        self.public = f"nanojax.lax.{name}"

    def _impl(self, *args: Any, **params: Any) -> Any:
        return self.bind(*args, **params)

    def bind(self, *args: Any, **params: Any) -> Any:
        named = find_axis(params["axis_name"], self.public)
        top: Any = named
        for a in args:
            if isinstance(a, Tracer):
                t = a._trace
                if not t.alive:
                    raise UnexpectedTracerError(a)
                if t.level > top.level:
                    top = t
        # jit or make_jaxpr inside the vmap records the collective even on
        # constants: the circuit must compute it again wherever it is run.
        staging = innermost_staging_trace()
        if staging is not None and staging.level > top.level:
            top = staging
        if top is not named:
            return top.process(self, args, params)
        vals, dims = named.unwrap(args)
        out, out_dim = self.batch_named(named.axis_size, vals, dims, **params)
        return out if out_dim is NOT_BATCHED else BatchTracer(named, out, out_dim)


def _collective(name: str, abstract_eval: Callable, **rules: Any) -> Collective:
    return _register(Collective(name, abstract_eval, **rules))  # type: ignore[return-value]


def _same_aval(x: ShapedArray, **params: Any) -> ShapedArray:
    return x


def _linear_jvp(prim: Callable[[], Primitive]) -> Callable:
    """The tangent of a linear collective: the collective of the tangent."""
    return lambda primals, tangents, ans, **p: (
        None if tangents[0] is None else prim().bind(tangents[0], **p))


def _keep_dtype(x: Any, dtype: np.dtype) -> Any:
    # NumPy sums small integers in int64: a collective keeps its operand's dtype.
    return x if dtype_of(x) == dtype else P.convert_element_type(x, dtype)


def _check_size(name: str, n: int, axis_size: int) -> None:
    if n != axis_size:
        raise ValueError(f"nanojax.lax.{name}: the circuit was recorded for an axis of size "
                         f"{axis_size}, but the axis it runs on has size {n}")


def _commuting(prim: Callable[[], Primitive], axis_params: tuple = ()) -> Callable:
    """The batch rule at a vmap of another axis: batch axis first, axis params shifted."""
    def rule(size, vals, dims, **params):
        x = move_to_front(vals[0], dims[0], size)
        shifted = {k: v + 1 for k, v in params.items() if k in axis_params}
        return prim().bind(x, **{**params, **shifted}), 0
    return rule


# ----- psum, pmax, pmin: reductions over the axis --------------------------------------

def _psum_named(n, vals, dims, *, axis_name):
    x, d = vals[0], dims[0]
    if d is NOT_BATCHED:                 # the same on every example: n copies of it
        return P.mul(x, n), NOT_BATCHED
    return _keep_dtype(P.reduce_sum(x, (d,)), dtype_of(x)), NOT_BATCHED


# The transpose of psum is psum, as in JAX: each example's output pulls on
# every example's input, so an input's cotangent is the sum of all of them.
psum_p: Collective = _collective(
    "psum", _same_aval, batch_named=_psum_named,
    batch=lambda size, vals, dims, **p: (psum_p.bind(vals[0], **p), dims[0]),
    jvp=_linear_jvp(lambda: psum_p),
    vjp_args=(lambda g, ans, x, **p: psum_p.bind(g, **p),))


def _chooser_named(reduce: Callable) -> Callable:
    def rule(n, vals, dims, *, axis_name):
        x, d = vals[0], dims[0]
        return (x if d is NOT_BATCHED else reduce(x, (d,))), NOT_BATCHED
    return rule


def _chooser_rules(prim: Callable[[], Primitive]) -> dict:
    # Ties share the pull equally, as reduce_max's do: each example holding
    # the extreme gets its share of every example's cotangent.
    def where_extreme(x, ans, axis_name):
        hits = P.convert_element_type(P.eq(x, ans), dtype_of(ans))
        return hits, psum_p.bind(hits, axis_name=axis_name)

    def vjp(g, ans, x, *, axis_name):
        hits, count = where_extreme(x, ans, axis_name)
        return P.mul(hits, P.div(psum_p.bind(g, axis_name=axis_name), count))

    def jvp(primals, tangents, ans, *, axis_name):
        if tangents[0] is None:
            return None
        hits, count = where_extreme(primals[0], ans, axis_name)
        return P.div(psum_p.bind(P.mul(tangents[0], hits), axis_name=axis_name), count)
    return dict(vjp_args=(vjp,), jvp=jvp,
                batch=lambda size, vals, dims, **p: (prim().bind(vals[0], **p), dims[0]))


pmax_p: Collective = _collective("pmax", _same_aval, batch_named=_chooser_named(P.reduce_max),
                                 **_chooser_rules(lambda: pmax_p))
pmin_p: Collective = _collective("pmin", _same_aval, batch_named=_chooser_named(P.reduce_min),
                                 **_chooser_rules(lambda: pmin_p))


# ----- all_gather and psum_scatter: each the other's transpose ---------------------------

def _merge(x: Any, axis: int) -> Any:
    """Axes ``axis`` and ``axis + 1`` made one (the first the major one): tiling."""
    shape = shape_of(x)
    return P.reshape(x, shape[:axis] + (shape[axis] * shape[axis + 1],) + shape[axis + 2:])


def _split(x: Any, axis: int, n: int) -> Any:
    """Axis ``axis`` cut into ``n`` chunks: ``(n, size // n)`` in its place."""
    shape = shape_of(x)
    return P.reshape(x, shape[:axis] + (n, shape[axis] // n) + shape[axis + 1:])


def _all_gather_aval(x, *, axis_name, axis, tiled, axis_size):
    shape = list(x.shape)
    if tiled:
        shape[axis] *= axis_size
    else:
        shape.insert(axis, axis_size)
    return ShapedArray(tuple(shape), x.dtype)


def _all_gather_named(n, vals, dims, *, axis_name, axis, tiled, axis_size):
    _check_size("all_gather", n, axis_size)
    x, d = vals[0], dims[0]
    if d is NOT_BATCHED:                 # every example sends the same: n copies
        shape = shape_of(x)
        out = P.broadcast_in_dim(x, shape[:axis] + (n,) + shape[axis:],
                                 tuple(i for i in range(len(shape) + 1) if i != axis))
    else:                                # the batch axis is the gathered one
        out = move_axis(x, d, axis)
    return (_merge(out, axis) if tiled else out), NOT_BATCHED


all_gather_p: Collective = _collective(
    "all_gather", _all_gather_aval, batch_named=_all_gather_named,
    batch=_commuting(lambda: all_gather_p, ("axis",)),
    jvp=_linear_jvp(lambda: all_gather_p),
    vjp_args=(lambda g, ans, x, *, axis_name, axis, tiled, axis_size: psum_scatter_p.bind(
        g, axis_name=axis_name, scatter_dimension=axis, tiled=tiled, axis_size=axis_size),))


def _psum_scatter_aval(x, *, axis_name, scatter_dimension, tiled, axis_size):
    shape = list(x.shape)
    if tiled:
        shape[scatter_dimension] //= axis_size
    else:
        del shape[scatter_dimension]
    return ShapedArray(tuple(shape), x.dtype)


def _psum_scatter_named(n, vals, dims, *, axis_name, scatter_dimension, tiled, axis_size):
    _check_size("psum_scatter", n, axis_size)
    total, _ = _psum_named(n, vals, dims, axis_name=axis_name)
    # Example b keeps slice (or chunk) b of the total along scatter_dimension:
    # that axis becomes the batch axis.
    return (_split(total, scatter_dimension, n) if tiled else total), scatter_dimension


psum_scatter_p: Collective = _collective(
    "psum_scatter", _psum_scatter_aval, batch_named=_psum_scatter_named,
    batch=_commuting(lambda: psum_scatter_p, ("scatter_dimension",)),
    jvp=_linear_jvp(lambda: psum_scatter_p),
    vjp_args=(lambda g, ans, x, *, axis_name, scatter_dimension, tiled, axis_size:
              all_gather_p.bind(g, axis_name=axis_name, axis=scatter_dimension, tiled=tiled,
                                axis_size=axis_size),))


# ----- ppermute: each example sends its value to another ---------------------------------

def _ppermute_named(n, vals, dims, *, axis_name, perm):
    x = move_to_front(vals[0], dims[0], n)
    source = np.zeros(n, np.int64)
    received = np.zeros(n, bool)
    for src, dst in perm:
        source[dst], received[dst] = src, True
    out = P.gather(x, source, indexer=Indexer((Indexer.ARRAY,)))
    if not received.all():               # no sender: zeros, as in JAX
        shape = shape_of(out)
        mask = np.broadcast_to(received.reshape((n,) + (1,) * (len(shape) - 1)), shape)
        out = P.select_n(mask, np.zeros(shape, dtype_of(out)), out)
    return out, 0


def _inverse(perm: tuple) -> tuple:
    return tuple((dst, src) for src, dst in perm)


ppermute_p: Collective = _collective(
    "ppermute", _same_aval, batch_named=_ppermute_named,
    batch=lambda size, vals, dims, **p: (ppermute_p.bind(vals[0], **p), dims[0]),
    jvp=_linear_jvp(lambda: ppermute_p),
    vjp_args=(lambda g, ans, x, *, axis_name, perm: ppermute_p.bind(
        g, axis_name=axis_name, perm=_inverse(perm)),))


# ----- all_to_all: split an axis across the examples, gather the batch axis -----------

def _all_to_all_aval(x, *, axis_name, split_axis, concat_axis, axis_size):
    shape = list(x.shape)
    shape[split_axis] //= axis_size
    shape[concat_axis] *= axis_size
    return ShapedArray(tuple(shape), x.dtype)


def _all_to_all_named(n, vals, dims, *, axis_name, split_axis, concat_axis, axis_size):
    """Chunk j of example b's split axis becomes chunk b of example j's concat axis."""
    _check_size("all_to_all", n, axis_size)
    x = _split(move_to_front(vals[0], dims[0], n), 1 + split_axis, n)
    # Axes now: source, the example's axes before split_axis, destination, the
    # chunk, the rest. Destination goes first (the new batch axis) and the
    # source just before the concat axis, then the two are merged.
    rank = len(shape_of(x)) - 2
    where = [1 + j if j < split_axis else 2 + j for j in range(rank)]
    order = [1 + split_axis]
    for j in range(rank):
        order += [0, where[j]] if j == concat_axis else [where[j]]
    return _merge(P.transpose(x, tuple(order)), 1 + concat_axis), 0


all_to_all_p: Collective = _collective(
    "all_to_all", _all_to_all_aval, batch_named=_all_to_all_named,
    batch=_commuting(lambda: all_to_all_p, ("split_axis", "concat_axis")),
    jvp=_linear_jvp(lambda: all_to_all_p),
    vjp_args=(lambda g, ans, x, *, axis_name, split_axis, concat_axis, axis_size:
              all_to_all_p.bind(g, axis_name=axis_name, split_axis=concat_axis,
                                concat_axis=split_axis, axis_size=axis_size),))


# ----- axis_index: which example this is --------------------------------------------

axis_index_p: Collective = _collective(
    "axis_index", lambda *, axis_name: ShapedArray((), np.dtype(np.int32)),
    batch_named=lambda n, vals, dims, *, axis_name: (np.arange(n, dtype=np.int32), 0),
    differentiable=False)


# ----- The public functions (nanojax.lax) ------------------------------------------------

def _names(who: str, axis_name: Any) -> tuple:
    """``axis_name`` as a tuple of names, each bound (or the NameError)."""
    names = tuple(axis_name) if isinstance(axis_name, (tuple, list)) else (axis_name,)
    for name in names:
        if isinstance(name, (int, np.integer)) and not isinstance(name, bool):
            raise TypeError(f"{who}: positional axes ({name!r}) are not supported as axis "
                            "names; reduce them with lax.reduce_sum and friends first")
        try:
            hash(name)
        except TypeError:
            raise TypeError(f"{who}: axis_name must be hashable (a string, usually), got "
                            f"{type(name).__name__}") from None
        find_axis(name, who)
    return names


def _one_name(who: str, axis_name: Any) -> Hashable:
    names = _names(who, axis_name)
    if len(names) != 1:
        raise TypeError(f"{who}: takes one axis name here, got {axis_name!r}; apply it once "
                        "per axis")
    return names[0]


def _no_groups(who: str, axis_index_groups: Any) -> None:
    if axis_index_groups is not None:
        raise NotImplementedError(f"{who}: axis_index_groups is not supported (on one CPU "
                                  "every collective spans the whole named axis); split the "
                                  "axis into two named vmaps instead")


def _one_axis(who: str, axis_name: Any, axis_index_groups: Any) -> tuple[Hashable, int]:
    """The one named axis a gather, scatter or all-to-all works along, and its size."""
    name = _one_name(who, axis_name)
    _no_groups(who, axis_index_groups)
    return name, _size((name,))


def _leaf(who: str, x: Any) -> Any:
    check_numeric(who.removeprefix("nanojax."), x)
    return x


def _size(names: tuple) -> int:
    return math.prod(int(find_axis(n, "").axis_size) for n in names)


def psum(x: Any, axis_name: Any, *, axis_index_groups: Any = None) -> Any:
    """The sum of ``x`` over the examples of the named axis, given to every example.

    ``x`` may be a pytree; booleans are summed as int32 (as in JAX); a tuple
    of names sums over each.

    Examples:
        >>> import numpy as np
        >>> import nanojax as nj
        >>> from nanojax import lax
        >>> nj.vmap(lambda x: x / lax.psum(x, "i"), axis_name="i")(np.array([1.0, 3.0]))
        array([0.25, 0.75])
    """
    return _psum("nanojax.lax.psum", x, axis_name, axis_index_groups)


def _psum(who: str, x: Any, axis_name: Any, axis_index_groups: Any) -> Any:
    names = _names(who, axis_name)
    _no_groups(who, axis_index_groups)

    def one(leaf: Any) -> Any:
        leaf = _leaf(who, leaf)
        if dtype_of(leaf) == np.bool_:
            leaf = P.convert_element_type(leaf, np.int32)
        for name in names:
            leaf = psum_p.bind(leaf, axis_name=name)
        return leaf
    return tree_map(one, x)


def pmean(x: Any, axis_name: Any, *, axis_index_groups: Any = None) -> Any:
    """The mean of ``x`` over the examples of the named axis (integers give floats).

    Examples:
        >>> import numpy as np
        >>> import nanojax as nj
        >>> from nanojax import lax
        >>> nj.vmap(lambda x: lax.pmean(x, "i"), axis_name="i")(np.array([1.0, 2.0, 6.0]))
        array([3., 3., 3.])
    """
    total = _psum("nanojax.lax.pmean", x, axis_name, axis_index_groups)
    n = _size(_names("nanojax.lax.pmean", axis_name))
    return tree_map(lambda t: P.div(t, n), total)


def _chooser(name: str, prim: Primitive, extreme: str, value: str) -> Callable:
    """``lax.pmax`` or ``lax.pmin``: ``prim`` over the named axes, leaf by leaf."""
    who = f"nanojax.lax.{name}"

    def chooser(x: Any, axis_name: Any, *, axis_index_groups: Any = None) -> Any:
        names = _names(who, axis_name)
        _no_groups(who, axis_index_groups)

        def one(leaf: Any) -> Any:
            leaf = _leaf(who, leaf)
            for axis in names:
                leaf = prim.bind(leaf, axis_name=axis)
            return leaf
        return tree_map(one, x)
    chooser.__name__ = chooser.__qualname__ = name
    chooser.__doc__ = f"""The {extreme} ``x`` over the named axis's examples, given to each.

    Examples:
        >>> import numpy as np
        >>> import nanojax as nj
        >>> from nanojax import lax
        >>> nj.vmap(lambda x: lax.{name}(x, "i"), axis_name="i")(np.array([1.0, 5.0, 2.0]))
        array([{value}, {value}, {value}])
    """
    return chooser


pmax = _chooser("pmax", pmax_p, "largest", "5.")
pmin = _chooser("pmin", pmin_p, "smallest", "1.")


def _normalized(who: str, what: str, axis: Any, bound: int) -> int:
    """``axis`` in ``[-bound, bound)``, made non-negative, or a clear error."""
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{who}: {what} must be an int, got {type(axis).__name__}")
    if not -bound <= axis < bound:
        raise ValueError(f"{who}: {what} {axis} is out of range for a result with {bound} "
                         "positions there")
    return int(axis) % bound


def all_gather(x: Any, axis_name: Any, *, axis_index_groups: Any = None, axis: int = 0,
               tiled: bool = False) -> Any:
    """Every example's ``x``, stacked in a new axis ``axis`` (or concatenated, ``tiled``).

    Examples:
        >>> import numpy as np
        >>> import nanojax as nj
        >>> from nanojax import lax
        >>> nj.vmap(lambda x: lax.all_gather(x, "i"), axis_name="i")(np.array([1.0, 2.0]))
        array([[1., 2.],
               [1., 2.]])
    """
    who = "nanojax.lax.all_gather"
    name, n = _one_axis(who, axis_name, axis_index_groups)

    def one(leaf: Any) -> Any:
        leaf = _leaf(who, leaf)
        ndim = len(shape_of(leaf))
        if tiled and ndim == 0:
            raise ValueError(f"{who}: tiled=True concatenates along an existing axis, but the "
                             "operand is 0-d")
        where = _normalized(who, "axis", axis, ndim if tiled else ndim + 1)
        return all_gather_p.bind(leaf, axis_name=name, axis=where, tiled=bool(tiled),
                                 axis_size=n)
    return tree_map(one, x)


def psum_scatter(x: Any, axis_name: Any, *, scatter_dimension: int = 0,
                 axis_index_groups: Any = None, tiled: bool = False) -> Any:
    """``psum(x)``, of which example b keeps slice b along ``scatter_dimension`` (chunk b, tiled).

    Examples:
        >>> import numpy as np
        >>> import nanojax as nj
        >>> from nanojax import lax
        >>> x = np.array([[1.0, 2.0], [3.0, 4.0]])      # two examples
        >>> nj.vmap(lambda x: lax.psum_scatter(x, "i"), axis_name="i")(x)
        array([4., 6.])
    """
    who = "nanojax.lax.psum_scatter"
    name, n = _one_axis(who, axis_name, axis_index_groups)

    def one(leaf: Any) -> Any:
        leaf = _leaf(who, leaf)
        shape = shape_of(leaf)
        dim = _normalized(who, "scatter_dimension", scatter_dimension, len(shape))
        if tiled and shape[dim] % n:
            raise ValueError(f"{who}: with tiled=True, dimension {dim} of the operand (size "
                             f"{shape[dim]}) must divide by the size of axis {name!r} ({n})")
        if not tiled and shape[dim] != n:
            raise ValueError(f"{who}: dimension {dim} of the operand has size {shape[dim]} "
                             f"but axis {name!r} has size {n}; they must be equal (or pass "
                             "tiled=True)")
        return psum_scatter_p.bind(leaf, axis_name=name, scatter_dimension=dim,
                                   tiled=bool(tiled), axis_size=n)
    return tree_map(one, x)


def ppermute(x: Any, axis_name: Any, perm: Any) -> Any:
    """Example ``dst`` gets the ``x`` of example ``src`` for each pair; the others get zeros.

    Examples:
        >>> import numpy as np
        >>> import nanojax as nj
        >>> from nanojax import lax
        >>> shift = lambda x: lax.ppermute(x, "i", [(0, 1), (1, 2)])
        >>> nj.vmap(shift, axis_name="i")(np.array([1.0, 2.0, 3.0]))
        array([0., 1., 2.])
    """
    who = "nanojax.lax.ppermute"
    name = _one_name(who, axis_name)
    n = _size((name,))
    pairs = _check_perm(who, perm, n)
    return tree_map(lambda leaf: ppermute_p.bind(_leaf(who, leaf), axis_name=name, perm=pairs),
                    x)


def _check_perm(who: str, perm: Any, n: int) -> tuple:
    try:
        pairs = tuple((int(s), int(d)) for s, d in perm)
        ok = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                 for pair in perm for v in pair)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise TypeError(f"{who}: perm must be a sequence of (source, destination) pairs of "
                        f"ints, got {perm!r:.60}")
    for s, d in pairs:
        if not (0 <= s < n and 0 <= d < n):
            raise ValueError(f"{who}: perm pair ({s}, {d}) is out of range for an axis of "
                             f"size {n}")
    for k, what in ((0, "source"), (1, "destination")):
        seen = [p[k] for p in pairs]
        if len(set(seen)) != len(seen):
            raise ValueError(f"{who}: perm names a {what} twice ({seen}); each example "
                             f"sends at most once and receives at most once")
    return pairs


def all_to_all(x: Any, axis_name: Any, split_axis: int, concat_axis: int, *,
               axis_index_groups: Any = None, tiled: bool = False) -> Any:
    """Trade the named axis for ``split_axis``: chunk j of example b goes to example j.

    Without ``tiled``, ``split_axis`` has the axis's size and disappears, and
    the examples come together in a new axis at ``concat_axis``; with it, the
    split axis is cut in chunks and they are concatenated along
    ``concat_axis``.

    Examples:
        >>> import numpy as np
        >>> import nanojax as nj
        >>> from nanojax import lax
        >>> swap = lambda x: lax.all_to_all(x, "i", 0, 0)
        >>> nj.vmap(swap, axis_name="i")(np.arange(4.0).reshape(2, 2))
        array([[0., 2.],
               [1., 3.]])
    """
    who = "nanojax.lax.all_to_all"
    name, n = _one_axis(who, axis_name, axis_index_groups)

    def one(leaf: Any) -> Any:
        leaf = _leaf(who, leaf)
        shape = shape_of(leaf)
        split = _normalized(who, "split_axis", split_axis, len(shape))
        concat = _normalized(who, "concat_axis", concat_axis, len(shape))
        if tiled:
            if shape[split] % n:
                raise ValueError(f"{who}: with tiled=True, split_axis {split} (size "
                                 f"{shape[split]}) must divide by the size of axis {name!r} "
                                 f"({n})")
            return all_to_all_p.bind(leaf, axis_name=name, split_axis=split,
                                     concat_axis=concat, axis_size=n)
        if shape[split] != n:
            raise ValueError(f"{who}: split_axis {split} has size {shape[split]} but axis "
                             f"{name!r} has size {n}; they must be equal (or pass tiled=True)")
        if split == concat:
            return all_to_all_p.bind(leaf, axis_name=name, split_axis=split,
                                     concat_axis=concat, axis_size=n)
        # A size-1 axis where the examples will stack, the split axis (chunks
        # of one) squeezed away afterwards: concat_axis counts without it.
        at = concat + 1 if split < concat else concat
        split_at = split if split < concat else split + 1
        grown = P.reshape(leaf, shape[:at] + (1,) + shape[at:])
        out = all_to_all_p.bind(grown, axis_name=name, split_axis=split_at, concat_axis=at,
                                axis_size=n)
        out_shape = shape_of(out)
        return P.reshape(out, out_shape[:split_at] + out_shape[split_at + 1:])
    return tree_map(one, x)


def axis_index(axis_name: Any) -> Any:
    """This example's index along the named axis (int32); a tuple of names, row-major.

    Examples:
        >>> import numpy as np
        >>> import nanojax as nj
        >>> from nanojax import lax
        >>> nj.vmap(lambda x: x * lax.axis_index("i"), axis_name="i")(np.ones(3))
        array([0., 1., 2.])
    """
    names = _names("nanojax.lax.axis_index", axis_name)
    index: Any = None
    for name in names:
        i = axis_index_p.bind(axis_name=name)
        index = i if index is None else P.add(
            P.mul(index, np.int32(find_axis(name, "").axis_size)), i)
    if index is None:
        raise ValueError("nanojax.lax.axis_index: axis_name is an empty tuple; name an axis")
    return index


def axis_size(axis_name: Any) -> int:
    """The size of the named axis (a Python int); of several, the product.

    Examples:
        >>> import numpy as np
        >>> import nanojax as nj
        >>> from nanojax import lax
        >>> nj.vmap(lambda x: x * lax.axis_size("i"), axis_name="i")(np.ones(2))
        array([2., 2.])
    """
    return _size(_names("nanojax.lax.axis_size", axis_name))
