"""``vmap``: run a function written for one example on a whole batch.

A batched value is an array with one extra axis, the batch axis, at a
position its tracer remembers (``bdim``). Each primitive's ``batch`` rule
says how to apply the primitive to batched operands with NumPy directly, so
``vmap`` costs one NumPy call per gate, never a Python loop over examples.
Rules normally move the batch axis to the front first (the helpers for
that live beside the rules, in ``primitives``).
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

import numpy as np

from nanojax import primitives as P
from nanojax.source_info import at_boundary
from nanojax.api_util import check_callable, check_inputs, check_outputs, name_transformed
from nanojax.core import NOT_BATCHED, Primitive, ShapedArray, Trace, Tracer, own_memory
from nanojax.errors import ConcretizationTypeError
from nanojax.tree_util import tree_flatten, tree_leaves, tree_unflatten

__all__ = ["vmap"]


class BatchTracer(Tracer):
    """A whole batch of values: ``val`` holds the examples along its axis ``bdim``."""

    __slots__ = ("val", "bdim")

    def __init__(self, trace: BatchTrace, val: Any, bdim: int) -> None:
        self._trace = trace
        self.val = val
        self.bdim = bdim

    def payload(self) -> tuple[Any, int]:
        return self.val, self.bdim

    @property
    def aval(self) -> ShapedArray:
        shape = list(P.shape_of(self.val))
        del shape[self.bdim]
        return ShapedArray(tuple(shape), P.dtype_of(self.val))

    def to_concrete_value(self, what: str) -> Any:
        # One value per example, so no one Python value. Inside jit the batch
        # is itself abstract: then the error names the argument it depends on.
        depends = ", which differs from example to example (batched by vmap)"
        if isinstance(self.val, Tracer):
            try:
                self.val.to_concrete_value(what)
            except ConcretizationTypeError as e:
                depends = e.depends or depends
        raise ConcretizationTypeError(what, self.aval.str_short(), depends=depends)


class AxisSize(int):
    """The size of a named batch axis, carrying its name.

    Batch rules pass the size on to what they batch with (a loop's body,
    ``custom_vjp``'s functions), and a ``BatchTrace`` made with it takes the
    name too: a collective inside a loop's body under ``vmap(...,
    axis_name="i")`` still finds axis ``"i"``.
    """

    name: Any

    def __new__(cls, size: int, name: Any) -> AxisSize:
        self = super().__new__(cls, size)
        self.name = name
        return self


class BatchTrace(Trace):
    """Applies each gate to whole batches at once, by the primitive's ``batch`` rule.

    ``axis_name`` (None: unnamed) is the name collectives find it by
    (``nanojax.collectives``); a size that is an ``AxisSize`` gives its name.
    """

    __slots__ = ("axis_size", "axis_name")
    tracer_type = BatchTracer
    constant_data = NOT_BATCHED

    def __init__(self, axis_size: int, axis_name: Any = None) -> None:
        super().__init__()
        if axis_name is None:
            axis_name = getattr(axis_size, "name", None)
        self.axis_name = axis_name
        self.axis_size = axis_size if axis_name is None else AxisSize(axis_size, axis_name)

    def process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        vals, dims = self.unwrap(args)
        if prim.batch is None:
            raise NotImplementedError(f"nanojax.vmap: primitive '{prim.name}' has no batch rule")
        out, out_dim = prim.batch(self.axis_size, vals, dims, **params)
        if prim.multiple_results:
            return [o if d is NOT_BATCHED else BatchTracer(self, o, d)
                    for o, d in zip(out, out_dim, strict=True)]
        return out if out_dim is NOT_BATCHED else BatchTracer(self, out, out_dim)


def move_axis(x: Any, src: int, dst: int) -> Any:
    ndim = len(P.shape_of(x))
    if src == dst:
        return x
    order = [i for i in range(ndim) if i != src]
    order.insert(dst, src)
    return P.transpose(x, tuple(order))


# ----- vmap ----------------------------------------------------------------------

def _broadcast_prefix(prefix: Any, tree: Any, what: str) -> list:
    """One axis spec per leaf of ``tree``, from a pytree prefix of it."""
    if prefix is None or isinstance(prefix, int):
        return [prefix] * len(tree_flatten(tree)[0])
    if (isinstance(prefix, (tuple, list, dict)) and type(prefix) is type(tree)) or (
            isinstance(prefix, tuple) and isinstance(tree, tuple)):
        if isinstance(prefix, dict):
            if set(prefix) != set(tree):
                raise ValueError(f"nanojax.vmap: {what} has keys {sorted(prefix)} but the argument "
                                 f"has keys {sorted(tree)}")
            keys = sorted(tree)
            return [a for k in keys for a in _broadcast_prefix(prefix[k], tree[k], what)]
        if len(prefix) != len(tree):
            raise ValueError(f"nanojax.vmap: {what} {prefix!r} has {len(prefix)} entries but the "
                             f"arguments have {len(tree)}")
        return [a for p, t in zip(prefix, tree) for a in _broadcast_prefix(p, t, what)]
    raise ValueError(f"nanojax.vmap: {what} {prefix!r} does not match the structure of the "
                     f"arguments ({type(tree).__name__}); use an int, None, or a tuple/"
                     "list/dict prefix of the arguments' structure")


def vmap(fun: Callable, in_axes: Any = 0, out_axes: Any = 0, axis_name: Any = None,
         axis_size: int | None = None, spmd_axis_name: Any = None) -> Callable:
    """Vectorize ``fun`` over an axis of its inputs.

    ``in_axes`` says, per positional argument (an int, None for "not
    batched", or a pytree prefix of the arguments), which axis is the batch
    axis; keyword arguments are batched along axis 0, as in JAX. ``out_axes``
    says where the batch axis goes in the outputs. ``axis_name`` names the
    batch axis for the collectives inside (``lax.psum(x, name)`` and the
    rest); ``spmd_axis_name`` (a sharding hint in JAX) is accepted and means
    nothing on one CPU.

    Examples:
        >>> import numpy as np
        >>> import nanojax as nj
        >>> nj.vmap(lambda w, x: w * x, in_axes=(None, 0))(2.0, np.arange(3.0))
        array([0., 2., 4.])
        >>> nj.vmap(lambda x: x - nj.lax.pmean(x, "i"), axis_name="i")(np.arange(3.0))
        array([-1.,  0.,  1.])
    """
    check_callable(fun, "nanojax.vmap")
    if axis_name is None:       # a batch rule's AxisSize: the same axis, batched again
        axis_name = getattr(axis_size, "name", None)
    try:
        hash(axis_name)
    except TypeError:
        raise TypeError(f"nanojax.vmap: axis_name must be hashable (a string, usually), got "
                        f"{type(axis_name).__name__}") from None
    if axis_size is not None and (not isinstance(axis_size, (int, np.integer))
                                  or isinstance(axis_size, bool) or axis_size < 0):
        raise ValueError(f"nanojax.vmap: axis_size must be a non-negative int, got "
                         f"{axis_size!r}")
    _check_axes_spec(in_axes, "in_axes")
    _check_axes_spec(out_axes, "out_axes")

    def batched(*args: Any, **kwargs: Any) -> Any:
        try:
            if isinstance(in_axes, list):
                axes_spec: Any = tuple(in_axes)
            else:
                axes_spec = in_axes
            if isinstance(axes_spec, tuple) and len(axes_spec) != len(args):
                raise ValueError(f"nanojax.vmap: in_axes has {len(axes_spec)} entries but the "
                                 f"function "
                                 f"was called with {len(args)} positional arguments")
            flat, in_tree = tree_flatten((args, kwargs))
            flat = check_inputs(flat, "nanojax.vmap")
            axes = _broadcast_prefix(axes_spec, args, "in_axes")
            axes += [0] * (len(flat) - len(axes))           # keyword arguments: axis 0
            size = _axis_size(flat, axes, axis_size, args, kwargs)
            with BatchTrace(size, axis_name) as trace:
                tracers = [x if ax is NOT_BATCHED else BatchTracer(trace, x, ax)
                           for x, ax in zip(flat, _normalize_axes(flat, axes))]
                call_args, call_kwargs = tree_unflatten(in_tree, tracers)
                out = fun(*call_args, **call_kwargs)
                out_flat, out_tree = tree_flatten(out)
            check_outputs(out_flat, "nanojax.vmap")
            outs_axes = _broadcast_prefix(out_axes, out, "out_axes")
            placed = [_place_output(o, ax, trace, size)
                      for o, ax in zip(out_flat, outs_axes)]
            return tree_unflatten(out_tree, own_memory(placed, flat))
        except Exception as e:  # noqa: BLE001 - re-raised, unchanged but for its traceback
            raise at_boundary(e)  # noqa: B904 - the very exception, its traceback filtered

    return name_transformed(batched, "vmap", fun)


def _check_axes_spec(spec: Any, what: str) -> None:
    """in_axes/out_axes: ints and None, alone or in tuples, lists and dicts."""
    for leaf in tree_leaves(spec):
        if not isinstance(leaf, (int, np.integer)) or isinstance(leaf, bool):
            raise TypeError(f"nanojax.vmap: {what} must be made of ints and None (in "
                            f"tuples, lists or dicts), got {leaf!r:.40} of type "
                            f"{type(leaf).__name__}")


def _normalize_axes(flat: list, axes: list) -> list:
    out = []
    for x, ax in zip(flat, axes):
        if ax is NOT_BATCHED:
            out.append(NOT_BATCHED)
            continue
        ndim = len(P.shape_of(x))
        if not -ndim <= ax < ndim:
            raise ValueError(f"nanojax.vmap: in_axes {ax} is out of range for an argument of "
                             f"shape {P.shape_of(x)}")
        out.append(ax % ndim)
    return out


def _leaf_names(args: tuple, kwargs: dict) -> list[str]:
    """A readable name per flat leaf, for errors: ``argument 1['w']``, ``keyword y``."""
    def paths(x: Any, prefix: str) -> list[str]:
        if isinstance(x, dict):
            return [p for k in sorted(x) for p in paths(x[k], f"{prefix}[{k!r}]")]
        if isinstance(x, (tuple, list)):
            return [p for i, e in enumerate(x) for p in paths(e, f"{prefix}[{i}]")]
        return [] if x is None else [prefix]
    names = []
    for k, a in enumerate(args):
        n, found = len(tree_flatten(a)[0]), paths(a, "")
        names += [f"argument {k}{p}" for p in (
            found if len(found) == n else [f" leaf {j}" for j in range(n)])]
    for key in sorted(kwargs):
        names += [f"keyword {key}{p}" for p in paths(kwargs[key], "")] or [f"keyword {key}"]
    return names


def _axis_size(flat: list, axes: list, axis_size: int | None, args: tuple,
               kwargs: dict) -> int:
    sizes = []
    for i, (x, ax) in enumerate(zip(flat, axes)):
        if ax is NOT_BATCHED:
            continue
        if not isinstance(x, (np.ndarray, np.generic, Tracer, float, int, bool)):
            name = _leaf_names(args, kwargs)[i]
            raise TypeError(f"nanojax.vmap: {name} of type {type(x).__name__} is not an array")
        shape = P.shape_of(x)
        if not -len(shape) <= ax < len(shape) or not shape:
            name = _leaf_names(args, kwargs)[i]
            raise ValueError(f"nanojax.vmap: in_axes {ax} is out of range for {name} of "
                             f"shape {shape}")
        sizes.append((i, shape[ax], ax, shape))
    if not sizes:
        if axis_size is None:
            raise ValueError("nanojax.vmap: no argument is batched (all in_axes are None); pass "
                             "axis_size to say how many times to run the function")
        return axis_size
    distinct = {s for _, s, _, _ in sizes}
    if len(distinct) > 1 or (axis_size is not None and distinct != {axis_size}):
        names = _leaf_names(args, kwargs)
        detail = "; ".join(f"{names[i]} has size {s} (axis {ax} of shape {shape})"
                           for i, s, ax, shape in sizes)
        raise ValueError(f"nanojax.vmap got inconsistent sizes for the batched axes: {detail}"
                         + (f" (axis_size={axis_size})" if axis_size is not None else "")
                         + ". Every batched argument must have the same size along its "
                         "in_axes.")
    return sizes[0][1]


def _place_output(o: Any, ax: int | None, trace: BatchTrace, size: int) -> Any:
    batched = type(o) is BatchTracer and o._trace is trace
    if ax is None:
        if batched:
            raise ValueError("nanojax.vmap: out_axes is None for an output that depends on "
                             "the batched inputs; give it an axis")
        return np.array(o) if isinstance(o, np.ndarray) else o     # never the caller's array
    val = o.val if batched else P.move_to_front(o, NOT_BATCHED, size)
    src = o.bdim if batched else 0
    ndim = len(P.shape_of(val))
    if not -ndim <= ax < ndim:
        raise ValueError(f"nanojax.vmap: out_axes {ax} is out of range for an output with "
                         f"{ndim - 1} dimensions")
    return move_axis(val, src, ax % ndim)
