"""Derivatives, the public face: ``vjp``, ``grad``, ``value_and_grad`` and ``jvp``.

Each function checks what it is given, runs one interpreter (the tape of
``tape.py`` for reverse mode, the tangents of ``forward.py`` for forward
mode) and hands back values and derivatives in memory of their own.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

from nanojax import primitives as P
from nanojax.ad_util import match_input, zeros_like
from nanojax.api_util import (argnums_partial, check_argnums, check_callable, check_float_leaves,
                              check_inputs, check_outputs, name_transformed, refuse_complex)
from nanojax.core import own_memory
from nanojax.dtypes import float0
from nanojax.forward import JVPTrace, JVPTracer
from nanojax.source_info import at_boundary, boundary
from nanojax.tape import pull, record, seed_outputs
from nanojax.tree_util import tree_flatten, tree_unflatten

__all__ = ["vjp", "grad", "value_and_grad", "jvp", "vjp_of", "jvp_of", "split_aux"]


# ----- Reverse mode ------------------------------------------------------------------

@boundary
def vjp(fun: Callable, *primals: Any, has_aux: bool = False, reduce_axes: Sequence = ()
        ) -> tuple:
    """Run ``fun`` forward and return ``(out, vjp_fn)`` (and ``aux``).

    ``vjp_fn(ct)`` pulls a cotangent ``ct`` shaped like ``out`` back to the
    inputs and returns a tuple with one cotangent per primal.

    Examples:
        >>> import nanojax as nj
        >>> out, pull = nj.vjp(lambda x, y: x * y, -2.0, 3.0)
        >>> print(out, pull(1.0))
        -6.0 (np.float64(3.0), np.float64(-2.0))
    """
    check_callable(fun, "nanojax.vjp")
    _no_reduce_axes(reduce_axes, "nanojax.vjp")
    return vjp_of(fun, primals, has_aux, "nanojax.vjp")


def _no_reduce_axes(reduce_axes: Sequence, who: str) -> None:
    if tuple(reduce_axes):
        raise NotImplementedError(f"{who}: reduce_axes is not supported (JAX has removed it); "
                                  "sum the cotangents yourself")


def _real_only(holomorphic: bool, who: str) -> None:
    if holomorphic:
        raise TypeError(f"{who}: holomorphic=True differentiates complex functions, and "
                        "nanojax does not support complex numbers yet")


def vjp_of(fun: Callable, primals: Sequence[Any], has_aux: bool, who: str) -> tuple:
    """``vjp``, with ``who`` (``nanojax.jacrev``, say) naming the caller in errors."""
    flat, in_tree = tree_flatten(tuple(primals))
    flat = check_inputs(flat, who)
    check_float_leaves(flat, who)
    trace, out_primals, out_tree, out_nodes, aux = record(fun, flat, in_tree, has_aux, who)
    out_primals = own_memory(out_primals, flat)

    @boundary
    def vjp_fn(ct: Any) -> tuple:
        seeds = seed_outputs(ct, out_tree, out_nodes, out_primals, f"{who}'s vjp_fn",
                             "cotangent")
        return tuple(tree_unflatten(in_tree, pull(trace, flat, seeds, tree_flatten(ct)[0])))

    out = tree_unflatten(out_tree, out_primals)
    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def value_and_grad(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
                   holomorphic: bool = False, allow_int: bool = False,
                   reduce_axes: Sequence = ()) -> Callable:
    """Like ``grad``, but return ``(value, grad)`` (``((value, aux), grad)``).

    Examples:
        >>> import nanojax as nj
        >>> value, g = nj.value_and_grad(lambda x, y: x * y)(-2.0, 3.0)
        >>> print(value, g)
        -6.0 3.0
    """
    check_callable(fun, "nanojax.grad")
    _real_only(holomorphic, "nanojax.value_and_grad")
    _no_reduce_axes(reduce_axes, "nanojax.value_and_grad")
    gradient = (_gradient_allow_int if allow_int else _gradient)(fun, argnums, has_aux, True)
    return name_transformed(gradient, "value_and_grad", fun)


def grad(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
         holomorphic: bool = False, allow_int: bool = False,
         reduce_axes: Sequence = ()) -> Callable:
    """The gradient of a scalar function, as a function of the same arguments.

    ``argnums`` picks the argument(s) to differentiate: an int gives one
    gradient, a tuple gives a tuple. Arguments may be pytrees; the gradient
    mirrors their structure. With ``has_aux`` the function returns
    ``(value, aux)`` and the gradient function returns ``(grad, aux)``.
    With ``allow_int``, integer and boolean inputs are allowed: their
    gradient is an array of JAX's ``float0`` dtype (no values), as in JAX.
    ``holomorphic=True`` (complex functions) is refused: nanojax is real.

    Examples:
        The guide's multiply gate pulls x by y and y by x:

        >>> import nanojax as nj
        >>> dx, dy = nj.grad(lambda x, y: x * y, argnums=(0, 1))(-2.0, 3.0)
        >>> print(dx, dy)
        3.0 -2.0
    """
    check_callable(fun, "nanojax.grad")
    _real_only(holomorphic, "nanojax.grad")
    _no_reduce_axes(reduce_axes, "nanojax.grad")
    gradient = (_gradient_allow_int if allow_int else _gradient)(fun, argnums, has_aux, False)
    return name_transformed(gradient, "grad", fun)


def _gradient_allow_int(fun: Callable, argnums: int | Sequence[int], has_aux: bool,
                        with_value: bool) -> Callable:
    """``_gradient`` where integer inputs are held fixed and get ``float0`` zeros."""
    def gradient(*args: Any, **kwargs: Any) -> Any:
        nums = check_argnums(argnums, len(args), "nanojax.grad")
        flat, in_tree = tree_flatten(tuple([args[i] for i in nums]))
        flat = check_inputs(flat, "nanojax.grad")
        floats = [k for k, x in enumerate(flat) if P.dtype_of(x).kind != "b"
                  and P.dtype_of(x).kind not in "iu"]
        check_float_leaves([flat[k] for k in floats], "nanojax.grad")

        def on_floats(*leaves: Any) -> Any:
            full = list(flat)
            for k, leaf in zip(floats, leaves):
                full[k] = leaf
            return argnums_partial(fun, args, nums, kwargs)(*tree_unflatten(in_tree, full))
        if floats:
            result = _gradient(on_floats, tuple(range(len(floats))), has_aux, True)(
                *[flat[k] for k in floats])
            value, float_grads = result
        else:
            value, float_grads = on_floats(), ()
        full_grads = [np.zeros(P.shape_of(x), float0) for x in flat]
        for k, g in zip(floats, float_grads):
            full_grads[k] = g
        grads = tree_unflatten(in_tree, full_grads)
        g = grads[0] if isinstance(argnums, int) else grads
        if not with_value:
            return (g, value[1]) if has_aux else g
        return value, g
    return gradient


def _gradient(fun: Callable, argnums: int | Sequence[int], has_aux: bool,
              with_value: bool) -> Callable:
    """The function ``grad`` (or, ``with_value``, ``value_and_grad``) returns.

    One body for both, rather than ``grad`` calling ``value_and_grad``: a
    layer of calls is about 1% of a scalar grad.
    """
    checked_nums: dict[int, tuple] = {}      # argnums resolved per argument count

    def gradient(*args: Any, **kwargs: Any) -> Any:
        try:
            nums = checked_nums.get(len(args))
            if nums is None:
                nums = checked_nums[len(args)] = check_argnums(argnums, len(args),
                                                               "nanojax.grad")
            flat, in_tree = tree_flatten(tuple([args[i] for i in nums]))
            flat = check_inputs(flat, "nanojax.grad")
            check_float_leaves(flat, "nanojax.grad")
            trace, outs, out_tree, nodes, aux = record(argnums_partial(fun, args, nums, kwargs),
                                                       flat, in_tree, has_aux, "nanojax.grad")
            if out_tree.node_type is not None or P.shape_of(outs[0]) != ():
                what = (f"shape {P.shape_of(outs[0])}" if out_tree.node_type is None
                        else f"the structure {out_tree}")
                raise TypeError(
                    f"nanojax.grad requires a function with a scalar output, but the output "
                    f"had {what}. Use nj.jacrev or nj.vjp for non-scalar outputs, or reduce "
                    "the output (e.g. jnp.sum) first.")
            value, node = outs[0], nodes[0]
            dtype = P.dtype_of(value)
            if dtype.kind != "f":
                raise TypeError(f"nanojax.grad requires a real-valued float output, got {dtype}; "
                                "return a float (jnp.astype(out, float) for an int or bool)")
            grads = tree_unflatten(in_tree, pull(trace, flat, {node: dtype.type(1.0)}
                                                 if node >= 0 else {}, consume=True))
            g = grads[0] if isinstance(argnums, int) else grads
            if not with_value:
                return (g, aux) if has_aux else g
            if type(value) is np.ndarray:       # f(x) = x on a 0-d array, say
                value = own_memory([value], flat)[0]
            return ((value, aux) if has_aux else value), g
        except Exception as e:  # noqa: BLE001 - re-raised, unchanged but for its traceback
            raise at_boundary(e)  # noqa: B904 - the very exception, its traceback filtered

    return gradient


# ----- Forward mode ------------------------------------------------------------------

@boundary
def jvp(fun: Callable, primals: Sequence[Any], tangents: Sequence[Any],
        has_aux: bool = False) -> tuple:
    """Push ``tangents`` forward through ``fun`` at ``primals``.

    Returns ``(fun(*primals), tangent_out)``; with ``has_aux``, ``fun``
    returns ``(out, aux)`` and this ``(out, tangent_out, aux)``.

    Examples:
        >>> import nanojax as nj
        >>> out, t = nj.jvp(lambda x, y: x * y, (-2.0, 3.0), (1.0, 0.0))
        >>> print(out, t)
        -6.0 3.0
    """
    check_callable(fun, "nanojax.jvp")
    if not has_aux:
        return jvp_of(fun, primals, tangents, "nanojax.jvp")
    plain, aux = split_aux(fun, "nanojax.jvp")
    out, t_out = jvp_of(plain, primals, tangents, "nanojax.jvp")
    return out, t_out, aux[0]


def split_aux(fun: Callable, who: str) -> tuple[Callable, list]:
    """``fun`` returning ``(out, aux)`` as a function of ``out`` only, and a box for ``aux``.

    The aux is kept as values: a forward-mode tracer gives its primal.
    """
    box: list = []

    def plain(*args: Any) -> Any:
        out = fun(*args)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise TypeError(f"{who}: with has_aux=True, the function must return a pair "
                            f"(output, aux), got {type(out).__name__}")
        aux_flat, aux_tree = tree_flatten(out[1])
        box[:] = [tree_unflatten(aux_tree, [a.primal if isinstance(a, JVPTracer) else a
                                            for a in aux_flat])]
        return out[0]
    return plain, box


def jvp_of(fun: Callable, primals: Sequence[Any], tangents: Sequence[Any], who: str
           ) -> tuple[Any, Any]:
    """``jvp``, with ``who`` (``nanojax.jacfwd``, say) naming the caller in errors."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(f"{who}: primals and tangents must be tuples or lists of "
                        f"arguments, got {type(primals).__name__} and "
                        f"{type(tangents).__name__}")
    p_flat, p_tree = tree_flatten(tuple(primals))
    t_flat, t_tree = tree_flatten(tuple(tangents))
    if p_tree != t_tree:
        raise ValueError(f"{who}: primals have structure {p_tree} but tangents have "
                         f"{t_tree}")
    p_flat = check_inputs(p_flat, who)
    t_flat = check_inputs(t_flat, who)
    check_float_leaves(p_flat, who)
    check_float_leaves(t_flat, f"{who} (tangents)")
    for p, t in zip(p_flat, t_flat):
        if P.shape_of(p) != P.shape_of(t):
            raise ValueError(f"{who}: a tangent of shape {P.shape_of(t)} was given "
                             f"for a primal of shape {P.shape_of(p)}")
    with JVPTrace(who) as trace:
        tracers = [JVPTracer(trace, p, t) for p, t in zip(p_flat, t_flat)]
        out = fun(*tree_unflatten(p_tree, tracers))
        out_flat, out_tree = tree_flatten(out)
    check_outputs(out_flat, who)
    outs, touts = [], []
    for o in out_flat:
        if type(o) is JVPTracer and o._trace is trace:
            outs.append(o.primal)
            touts.append(_fit(o.tangent, o.primal))
        else:
            refuse_complex(o, "the function", who)
            outs.append(o)
            touts.append(zeros_like(o))
    mine = own_memory(outs + touts, (*p_flat, *t_flat))
    return (tree_unflatten(out_tree, mine[:len(outs)]),
            tree_unflatten(out_tree, mine[len(outs):]))


def _fit(t: Any, primal: Any) -> Any:
    if P.shape_of(t) != P.shape_of(primal):
        t = P.broadcast_to(t, P.shape_of(primal))
    return match_input(t, primal)
