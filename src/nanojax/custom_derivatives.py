"""``jax.custom_derivatives``: the custom-rule decorators and ``closure_convert``.

``closure_convert(fun, *example_args)`` traces ``fun`` and returns a function
that takes the floating-point values ``fun`` closes over as explicit extra
arguments, with those values: what a ``custom_vjp`` needs when its
function's closure holds something to differentiate.

Examples:
    >>> import nanojax as nj
    >>> def outer(w):
    ...     f, consts = nj.closure_convert(lambda x: x * w, 1.0)
    ...     return f(3.0, *consts)
    >>> nj.grad(outer)(2.0)
    np.float64(3.0)
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

import numpy as np

from nanojax.core import Tracer, eval_jaxpr
from nanojax.custom import custom_gradient, custom_jvp, custom_vjp
from nanojax.staging import make_jaxpr
from nanojax.tree_util import tree_flatten, tree_unflatten

__all__ = ["closure_convert", "custom_gradient", "custom_jvp", "custom_vjp"]


def _hoisted(value: Any) -> bool:
    """A closed-over value worth passing explicitly: traced, or floating-point data."""
    return isinstance(value, Tracer) or np.result_type(value).kind in "fc"


def closure_convert(fun: Callable, *example_args: Any) -> tuple[Callable, list]:
    """``(converted, consts)``: ``converted(*args, *consts)`` computes ``fun(*args)`` for
    arguments shaped like ``example_args``, with the floating-point values ``fun``
    closes over taken from ``consts`` instead of its closure."""
    if not callable(fun):
        raise TypeError(f"nanojax.closure_convert: fun must be callable, got "
                        f"{type(fun).__name__}")
    flat_args, in_tree = tree_flatten(example_args)
    out_trees = []

    def flat_fun(*leaves: Any) -> list:
        out_flat, out_tree = tree_flatten(fun(*tree_unflatten(in_tree, list(leaves))))
        out_trees.append(out_tree)
        return out_flat

    closed = make_jaxpr(flat_fun)(*flat_args)
    hoist = [_hoisted(c) for c in closed.consts]
    consts = [c for c, h in zip(closed.consts, hoist) if h]
    kept = [c for c, h in zip(closed.consts, hoist) if not h]
    jaxpr, out_tree, n_args = closed.jaxpr, out_trees[-1], len(flat_args)

    def converted(*args_and_consts: Any) -> Any:
        *args, = args_and_consts[:len(example_args)]
        given = list(args_and_consts[len(example_args):])
        if len(given) != len(consts):
            raise TypeError(f"nanojax.closure_convert: the converted function takes the "
                            f"arguments and then {len(consts)} constants, got {len(given)}")
        leaves, tree = tree_flatten(tuple(args))
        if tree != in_tree or len(leaves) != n_args:
            raise TypeError("nanojax.closure_convert: the arguments do not have the structure "
                            "of the example arguments")
        hoisted, rest = iter(given), iter(kept)
        all_consts = [next(hoisted) if h else next(rest) for h in hoist]
        return tree_unflatten(out_tree, eval_jaxpr(jaxpr, all_consts, *leaves))

    return converted, consts
