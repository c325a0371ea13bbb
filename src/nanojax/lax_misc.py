"""The rest of lax's small names: shapes, fills, barriers, and ``lax.reduce``.

``broadcast_shapes``, ``full_like``, ``collapse`` and ``batch_matmul`` are
short circuits of existing gates; ``optimization_barrier`` and
``with_sharding_constraint`` are the identity on one CPU (there is no
compiler to keep from reordering, nor a device to shard over), returning
arrays of their own. ``reduce`` is XLA's general reduction: a computation
it recognizes (``lax.add``, ``jnp.maximum``, ``np.multiply``, ...) on one
operand is the matching ``reduce_*`` gate; any other computation, and
several operands reduced together (an argmax as a reduction of value-index
pairs, say), is a tree reduction that calls ``computation`` on whole halves
of the array, about log2(n) times.

Examples:
    >>> import numpy as np
    >>> from nanojax import lax
    >>> lax.broadcast_shapes((3, 1), (4,))
    (3, 4)
    >>> lax.collapse(np.zeros((2, 3, 4)), 1).shape
    (2, 12)
    >>> lax.reduce(np.arange(6.0).reshape(2, 3), 0.0, lax.add, (1,))
    array([ 3., 12.])
    >>> values, positions = lax.reduce((np.array([3.0, 7.0, 5.0]), np.arange(3)),
    ...                                (-np.inf, 0), lambda a, b: (lax.max(a[0], b[0]),
    ...                                lax.select(a[0] >= b[0], a[1], b[1])), (0,))
    >>> print(values, positions)
    7.0 1
"""

from __future__ import annotations

import builtins
import operator
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

from nanojax import primitives as P
from nanojax.lax_args import operand as _operand
from nanojax.core import Tracer, get_aval, own_memory
from nanojax.numpy._args import describe, is_int
from nanojax.tree_util import tree_flatten, tree_unflatten

__all__ = ["batch_matmul", "broadcast_shapes", "collapse", "full_like", "optimization_barrier",
           "reduce", "with_sharding_constraint"]



def _is_array(x: Any) -> bool:
    return isinstance(x, (Tracer, np.ndarray))


def _what(x: Any) -> str:
    """An operand for a message: an array and a tracer of it read the same."""
    aval = get_aval(x)
    return f"an array of shape {aval.shape} and dtype {aval.dtype}"


def _shape_tuple(name: str, what: str, shape: Any) -> tuple[int, ...]:
    try:
        sizes = tuple(shape)
    except TypeError:
        sizes = None
    if sizes is None or not all(is_int(d) for d in sizes) or any(d < 0 for d in sizes):
        raise TypeError(f"nanojax.lax.{name}: {what} must be a sequence of non-negative ints, "
                        f"got {describe(shape)}")
    return tuple(int(d) for d in sizes)


# ----- Shapes, fills and identities --------------------------------------------------

def broadcast_shapes(*shapes: Sequence[int]) -> tuple[int, ...]:
    """The shape arrays of ``shapes`` broadcast to, by NumPy's rules (as JAX's)."""
    sizes = [_shape_tuple("broadcast_shapes", "each shape", s) for s in shapes]
    try:
        return tuple(int(d) for d in np.broadcast_shapes(*sizes))
    except ValueError:
        raise ValueError(f"nanojax.lax.broadcast_shapes: shapes "
                         f"{', '.join(map(str, sizes))} do not broadcast together (trailing "
                         "dimensions must be equal or 1)") from None


def full_like(x: Any, fill_value: Any, dtype: Any = None, shape: Any = None) -> Any:
    """An array like ``x`` (its shape and dtype, unless given) filled with ``fill_value``.

    Only ``x``'s shape and dtype are read, so nothing flows back into it;
    ``fill_value`` may be traced (its gradient is the sum of the pulls).
    """
    x = _operand("full_like", x)
    sizes = tuple(x.shape) if shape is None else _shape_tuple("full_like", "shape", shape)
    try:
        dt = x.dtype if dtype is None else np.dtype(dtype)
    except TypeError:
        raise TypeError(f"nanojax.lax.full_like: dtype {dtype!r} is not a dtype") from None
    value = _operand("full_like", fill_value)
    if value.shape != ():
        raise TypeError(f"nanojax.lax.full_like: fill_value must be a scalar, got "
                        f"{_what(value)}")
    if not isinstance(value, Tracer):
        return np.full(sizes, value, dt)
    if value.dtype != dt:
        value = P.convert_element_type(value, dt)
    return P.broadcast_in_dim(value, sizes, ())


def collapse(operand: Any, start_dimension: int, stop_dimension: int | None = None) -> Any:
    """``operand`` with its axes ``start_dimension:stop_dimension`` merged into one.

    The axes are taken as a Python slice takes them (negative from the end,
    ``None``: to the last axis); the merged axis has the product of their sizes.
    """
    x = _operand("collapse", operand)
    shape = tuple(x.shape)
    ndim = len(shape)
    bounds = []
    for v in (start_dimension, ndim if stop_dimension is None else stop_dimension):
        if not is_int(v) or not -ndim <= int(v) <= ndim:
            raise ValueError(f"nanojax.lax.collapse: start_dimension {start_dimension!r} and "
                             f"stop_dimension {stop_dimension!r} must be axes of an operand "
                             f"of shape {shape}")
        bounds.append(int(v) % ndim if int(v) < 0 else int(v))
    lo, hi = bounds
    if lo > hi or lo == ndim:
        raise ValueError(f"nanojax.lax.collapse: start_dimension {start_dimension!r} must come "
                         f"before stop_dimension {stop_dimension!r} in an operand of shape "
                         f"{shape}")
    new_shape = shape[:lo] + (int(np.prod(shape[lo:hi], dtype=np.int64)),) + shape[hi:]
    out = P.reshape(x, new_shape)
    return out if isinstance(out, Tracer) else np.array(out)


def batch_matmul(lhs: Any, rhs: Any, precision: Any = None) -> Any:
    """Matrix products over leading batch axes: ``(..., m, k) @ (..., k, n) -> (..., m, n)``.

    Both operands have the same rank (at least 2) and the same batch axes, as
    JAX asks (no broadcasting: ``jnp.matmul`` broadcasts). ``precision`` is
    accepted and has nothing to choose.
    """
    a, b = _operand("batch_matmul", lhs), _operand("batch_matmul", rhs)
    if a.ndim < 2 or a.ndim != b.ndim:
        raise ValueError(f"nanojax.lax.batch_matmul: lhs and rhs must be at least 2-d and of "
                         f"the same rank, got {_what(a)} and {_what(b)}")
    if tuple(a.shape[:-2]) != tuple(b.shape[:-2]) or a.shape[-1] != b.shape[-2]:
        raise ValueError(f"nanojax.lax.batch_matmul: lhs of shape {tuple(a.shape)} and rhs of "
                         f"shape {tuple(b.shape)} need equal batch axes and lhs's last axis "
                         "as long as rhs's second-to-last")
    n = a.ndim
    batch = tuple(range(n - 2))
    return P.dot_general_p.bind(a, b, dimension_numbers=(((n - 1,), (n - 2,)), (batch, batch)))


def _identity(name: str, tree: Any) -> Any:
    flat, treedef = tree_flatten(tree)
    leaves = [_operand(name, x) for x in flat]
    # A plain array comes back as a copy: the caller may write into what it gets.
    return tree_unflatten(treedef, [x if isinstance(x, Tracer) else np.array(x)
                                    for x in leaves])


def optimization_barrier(operand: Any, /) -> Any:
    """``operand`` (a pytree of arrays), unchanged: with no compiler to reorder, a no-op."""
    return _identity("optimization_barrier", operand)


def with_sharding_constraint(x: Any, shardings: Any) -> Any:
    """``x`` (a pytree of arrays), unchanged: one CPU device has nothing to shard.

    Any ``shardings`` is accepted, as it would be for that one device.
    """
    return _identity("with_sharding_constraint", x)


# ----- reduce --------------------------------------------------------------------------

def _monoids() -> dict[Any, tuple[Callable, str]]:
    """The computations ``reduce`` turns into a gate: function -> (reduction, kind)."""
    from nanojax import lax
    import nanojax.numpy as jnp
    table: dict[Any, tuple[Callable, str]] = {}
    for kind, reduction, fns in [
            ("add", P.reduce_sum, (lax.add, jnp.add, np.add, operator.add)),
            ("mul", P.reduce_prod, (lax.mul, jnp.multiply, np.multiply, operator.mul)),
            ("max", P.reduce_max, (lax.max, jnp.maximum, np.maximum, builtins.max)),
            ("min", P.reduce_min, (lax.min, jnp.minimum, np.minimum, builtins.min))]:
        for fn in fns:
            table[fn] = (reduction, kind)
    return table


_MONOIDS: dict[Any, tuple[Callable, str]] = {}


def _is_identity(kind: str, init: Any, dtype: np.dtype) -> bool:
    """Whether combining with ``init`` changes nothing, so it can be left out."""
    if isinstance(init, Tracer):
        return False
    value = np.asarray(init)
    if dtype.kind == "f":
        identity: Any = {"add": 0.0, "mul": 1.0, "max": -np.inf, "min": np.inf}[kind]
    elif dtype.kind == "b":
        identity = {"add": False, "mul": True, "max": False, "min": True}[kind]
    else:
        info = np.iinfo(dtype)
        identity = {"add": 0, "mul": 1, "max": info.min, "min": info.max}[kind]
    return bool(value == identity)


def _halves(combine: Callable[[list, list], list], xs: list) -> list:
    """Reduce the leading axis of ``xs`` by combining its halves: log2(n) calls."""
    from nanojax.numpy._indexing import getitem
    n = P.shape_of(xs[0])[0]
    while n > 1:
        h = n // 2
        combined = combine([getitem(x, (slice(0, 2 * h, 2),)) for x in xs],
                           [getitem(x, (slice(1, 2 * h, 2),)) for x in xs])
        if n % 2:                  # the odd one out waits, last, for the next round
            combined = [P.concatenate([c, getitem(x, (slice(n - 1, n),))], 0)
                        for c, x in zip(combined, xs)]
        xs, n = combined, h + n % 2
    return [getitem(x, (0,)) for x in xs]


def reduce(operands: Any, init_values: Any, computation: Callable,
           dimensions: Sequence[int]) -> Any:
    """Reduce ``operands`` over ``dimensions`` with ``computation``, starting from ``init_values``.

    ``operands`` is an array or a pytree of arrays of one shape, reduced
    together; ``init_values`` has its structure, one scalar per array, and
    ``computation(a, b)`` combines two such pytrees. As in JAX (and XLA),
    the computation must be associative: it is applied as a tree, to whole
    halves of the reduced axis at a time, and ``init_values`` is combined
    in once, first (``computation(init, reduced)``). Addition,
    multiplication, maximum and minimum of one operand (``lax.add``,
    ``jnp.maximum``, ``np.multiply``, ...) are the ``reduce_*`` gates.
    """
    name = "reduce"
    if not callable(computation):
        what = _what(computation) if _is_array(computation) else describe(computation)
        raise TypeError(f"nanojax.lax.reduce: computation must be a function, got {what}")
    flat, tree = tree_flatten(operands)
    inits, init_tree = tree_flatten(init_values)
    if not flat:
        raise ValueError("nanojax.lax.reduce: operands has no arrays to reduce")
    if init_tree != tree:
        raise TypeError(f"nanojax.lax.reduce: init_values must have the structure of "
                        f"operands, {tree}, got {init_tree}")
    xs = [_operand(name, x) for x in flat]
    inits = [_operand(name, v) for v in inits]
    shape = tuple(xs[0].shape)
    if any(tuple(x.shape) != shape for x in xs):
        raise ValueError(f"nanojax.lax.reduce: operands must have one shape, got "
                         f"{', '.join(str(tuple(x.shape)) for x in xs)}")
    for v in inits:
        if v.shape != ():
            raise TypeError(f"nanojax.lax.reduce: each init value must be a scalar, got "
                            f"{_what(v)}")
    dims = _dims(dimensions, shape)
    kept = tuple(d for d in range(len(shape)) if d not in dims)
    out_shape = tuple(shape[d] for d in kept)
    inits = [v if v.dtype == x.dtype else P.convert_element_type(v, x.dtype)
             for v, x in zip(inits, xs)]

    def combine(a: list, b: list) -> list:
        out = computation(tree_unflatten(tree, a), tree_unflatten(tree, b))
        out_flat, out_tree = tree_flatten(out)
        if out_tree != tree:
            raise TypeError(f"nanojax.lax.reduce: computation must return the structure of "
                            f"operands, {tree}, but returned {out_tree}")
        for o, x in zip(out_flat, a):
            want, got = get_aval(x), get_aval(o)
            if got.shape != want.shape or got.dtype != want.dtype:
                raise TypeError(f"nanojax.lax.reduce: computation must keep its operands' "
                                f"shapes and dtypes (it is applied to whole slices), but "
                                f"turned {want.str_short()} into {got.str_short()}")
        return out_flat

    def with_init(reduced: list) -> list:
        return combine([P.broadcast_in_dim(v, out_shape, ()) for v in inits], reduced)

    if any(shape[d] == 0 for d in dims):          # nothing to reduce: the init values
        outs = [P.broadcast_in_dim(v, out_shape, ()) for v in inits]
    else:
        if not _MONOIDS:
            _MONOIDS.update(_monoids())
        try:
            monoid = _MONOIDS.get(computation) if len(xs) == 1 else None
        except TypeError:                          # an unhashable callable
            monoid = None
        if monoid is not None:
            reduction, kind = monoid
            reduced = [reduction(xs[0], dims)]
            outs = reduced if _is_identity(kind, inits[0], xs[0].dtype) else with_init(reduced)
        else:
            order = dims + kept
            n = int(np.prod([shape[d] for d in dims], dtype=np.int64))
            lined = [P.reshape(x if order == tuple(range(len(shape))) else
                               P.transpose(x, order), (n,) + out_shape) for x in xs]
            outs = with_init(_halves(combine, lined))
    if not any(isinstance(o, Tracer) for o in outs):
        outs = own_memory([np.asarray(o) for o in outs], flat)
    return tree_unflatten(tree, outs)


def _dims(dimensions: Any, shape: tuple) -> tuple[int, ...]:
    try:
        dims = tuple(dimensions)
    except TypeError:
        dims = None
    if dims is None or not all(is_int(d) for d in dims):
        raise TypeError(f"nanojax.lax.reduce: dimensions must be a sequence of ints, got "
                        f"{describe(dimensions)}")
    ndim = len(shape)
    if any(not -ndim <= d < ndim for d in dims):
        raise ValueError(f"nanojax.lax.reduce: dimensions {dims} are not axes of operands of "
                         f"shape {shape}")
    out = tuple(sorted(int(d) % ndim for d in dims))
    if len(set(out)) != len(out):
        raise ValueError(f"nanojax.lax.reduce: dimensions {dims} repeat an axis")
    return out
