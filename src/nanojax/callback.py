"""``pure_callback``: call a Python function on NumPy arrays from traced code.

The callback is a gate, ``pure_callback``, whose ``impl`` converts its
operands to NumPy arrays, calls the function and checks the result against
the declared ``result_shape_dtypes``. Under ``jit`` the gate is staged like
any other, so the function is called when the compiled code runs, not
while tracing. As in JAX it has no derivative (wrap it in ``custom_jvp`` or
``custom_vjp`` to give it one), and under ``vmap`` ``vmap_method`` says how
the batch reaches the function:

- ``"sequential"``: once per example, in a loop (``lax.map``);
- ``"expand_dims"``: once, with the batch as a leading axis of every
  batched argument and a size-1 axis on the others;
- ``"broadcast_all"``: once, every argument broadcast to the full batch;
- ``"legacy_vectorized"``: once, batched arguments with the batch axis in
  front, the others unchanged.

Being pure, a callback whose result is unused may be dropped by ``jit``.

Examples:
    >>> import numpy as np
    >>> import nanojax as nj
    >>> def host_sin(x):
    ...     return np.sin(x)
    >>> f = nj.jit(lambda x: nj.pure_callback(host_sin, nj.ShapeDtypeStruct(x.shape, x.dtype), x))
    >>> f(np.zeros(2))
    array([0., 0.])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np

from nanojax import primitives as P
from nanojax.api_util import check_callable, check_inputs
from nanojax.core import Primitive, ShapedArray, own_memory
from nanojax.tree_util import PyTreeDef, tree_flatten, tree_unflatten

__all__ = ["pure_callback", "pure_callback_p"]

_VMAP_METHODS = ("sequential", "sequential_unrolled", "expand_dims", "broadcast_all",
                 "legacy_vectorized")


class _Callback:
    """The user's function on flat NumPy leaves, returning flat leaves."""

    __slots__ = ("fun", "in_tree", "out_tree", "name")

    def __init__(self, fun: Callable, in_tree: PyTreeDef, out_tree: PyTreeDef) -> None:
        self.fun = fun
        self.in_tree = in_tree
        self.out_tree = out_tree
        self.name = getattr(fun, "__name__", "callback")

    def __call__(self, *leaves: Any) -> list:
        args, kwargs = tree_unflatten(self.in_tree, leaves)
        out_flat, out_tree = tree_flatten(self.fun(*args, **kwargs))
        if out_tree != self.out_tree:
            raise TypeError(f"nanojax.pure_callback: the callback {self.name} returned a "
                            f"result of structure {out_tree}, but result_shape_dtypes has "
                            f"structure {self.out_tree}")
        return out_flat

    def __repr__(self) -> str:
        return self.name


def _impl(*args: Any, callback: _Callback, result_avals: tuple, vmap_method: str | None
          ) -> list:
    arrays = [np.asarray(a) for a in args]
    outs = []
    for k, (o, aval) in enumerate(zip(callback(*arrays), result_avals)):
        if isinstance(o, (np.ndarray, np.generic)):
            o = np.asarray(o)
            if o.dtype != aval.dtype:
                raise TypeError(f"nanojax.pure_callback: the callback {callback.name} returned "
                                f"result {k} of dtype {o.dtype}, but result_shape_dtypes "
                                f"declares {aval.dtype}")
        else:                            # a Python number or list: the declared dtype
            o = np.asarray(o, dtype=aval.dtype)
        if o.shape != aval.shape:
            raise ValueError(f"nanojax.pure_callback: the callback {callback.name} returned "
                             f"result {k} of shape {o.shape}, but result_shape_dtypes "
                             f"declares {aval.shape}")
        outs.append(o if o.shape else o[()])
    return own_memory(outs, arrays)


def _abstract_eval(*avals: ShapedArray, callback: _Callback, result_avals: tuple,
                   vmap_method: str | None) -> list[ShapedArray]:
    return list(result_avals)


def _no_derivative(*args: Any, callback: _Callback, **params: Any) -> NoReturn:
    raise ValueError(f"nanojax.pure_callback: pure callbacks do not support differentiation "
                     f"(the callback {callback.name} is a black box); use nanojax.custom_jvp "
                     "or nanojax.custom_vjp to give the function that calls it a derivative")


def _batch(size: int, vals: list, dims: list, *, callback: _Callback, result_avals: tuple,
           vmap_method: str | None) -> tuple:
    if vmap_method is None:
        raise NotImplementedError(
            f"nanojax.pure_callback: the callback {callback.name} is under vmap, but no "
            f"vmap_method was given; pass vmap_method= one of {', '.join(_VMAP_METHODS)}")
    front = [v if d is None else P.move_to_front(v, d, size) for v, d in zip(vals, dims)]
    batched_avals = tuple(ShapedArray((size, *a.shape), a.dtype) for a in result_avals)
    if vmap_method in ("sequential", "sequential_unrolled"):
        from nanojax.lax_control_flow import map as lax_map
        batched = [i for i, d in enumerate(dims) if d is not None]

        def one(xs: list) -> list:
            full = list(front)
            for i, x in zip(batched, xs):
                full[i] = x
            return pure_callback_p.bind(*full, callback=callback, result_avals=result_avals,
                                        vmap_method=vmap_method)
        outs = lax_map(one, [front[i] for i in batched])
    else:
        if vmap_method == "expand_dims":
            args = [v if d is not None else P.reshape(v, (1, *P.shape_of(v)))
                    for v, d in zip(front, dims)]
        elif vmap_method == "broadcast_all":
            args = [v if d is not None else P.move_to_front(v, None, size)
                    for v, d in zip(front, dims)]
        else:
            args = front
        outs = pure_callback_p.bind(*args, callback=callback, result_avals=batched_avals,
                                    vmap_method=vmap_method)
    return list(outs), [0] * len(result_avals)


pure_callback_p = Primitive("pure_callback", _impl, _abstract_eval, jvp=_no_derivative,
                            vjp=_no_derivative, batch=_batch, multiple_results=True)


def _result_aval(leaf: Any) -> ShapedArray:
    shape, dtype = getattr(leaf, "shape", None), getattr(leaf, "dtype", None)
    if shape is None or dtype is None:
        raise TypeError(f"nanojax.pure_callback: result_shape_dtypes must be a pytree of "
                        f"objects with .shape and .dtype (nanojax.ShapeDtypeStruct, or "
                        f"arrays), got {leaf!r:.50}")
    return ShapedArray(tuple(shape), dtype)


def pure_callback(callback: Callable, result_shape_dtypes: Any, *args: Any,
                  sharding: Any = None, vmap_method: str | None = None,
                  vectorized: bool | None = None, **kwargs: Any) -> Any:
    """Call ``callback(*args, **kwargs)`` on NumPy arrays, from traced code too.

    ``result_shape_dtypes`` is a pytree of ``ShapeDtypeStruct`` (or arrays)
    describing what the callback returns; the result must match it. The
    callback must be pure: it may be called again, or not at all if its
    result is unused. See the module doc for ``vmap_method``;
    ``vectorized=True`` is JAX's old spelling of ``"legacy_vectorized"``.
    """
    check_callable(callback, "nanojax.pure_callback")
    if vectorized is not None:
        if vmap_method is not None:
            raise ValueError("nanojax.pure_callback: pass vmap_method or vectorized, not both")
        vmap_method = "legacy_vectorized" if vectorized else "sequential"
    if vmap_method is not None and vmap_method not in _VMAP_METHODS:
        raise ValueError(f"nanojax.pure_callback: vmap_method must be one of "
                         f"{', '.join(_VMAP_METHODS)}, got {vmap_method!r}")
    result_leaves, out_tree = tree_flatten(result_shape_dtypes)
    result_avals = tuple(_result_aval(r) for r in result_leaves)
    flat, in_tree = tree_flatten((args, kwargs))
    flat = check_inputs(flat, "nanojax.pure_callback")
    outs = pure_callback_p.bind(*flat, callback=_Callback(callback, in_tree, out_tree),
                                result_avals=result_avals, vmap_method=vmap_method)
    return tree_unflatten(out_tree, outs)
