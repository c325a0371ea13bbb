"""``checkpoint`` (``remat``): trade computation for memory in reverse mode.

``grad`` keeps every gate's operands on its tape until the backward pass
reaches it. A checkpointed function is one gate, ``checkpoint``, carrying
the function's jaxpr: the tape keeps only its inputs and outputs, and its
vjp rule runs the function forward again (on a tape of its own) when the
backward pass needs the pulls. That is real rematerialization: the
intermediates of the function live during its own backward step only.

Forward mode pushes tangents through the jaxpr (as a new ``checkpoint``
gate), ``vmap`` batches the jaxpr, ``jit`` stages the gate and runs the
jaxpr when called.

Examples:
    >>> import numpy as np
    >>> import nanojax as nj
    >>> import nanojax.numpy as jnp
    >>> layer = nj.checkpoint(lambda w, x: jnp.tanh(w @ x))
    >>> w, x = np.eye(2), np.array([0.5, -1.0])
    >>> g = nj.grad(lambda w: jnp.sum(layer(w, layer(w, x))))(w)
    >>> np.allclose(g, nj.grad(lambda w: jnp.sum(jnp.tanh(w @ jnp.tanh(w @ x))))(w))
    True
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from nanojax import primitives as P
from nanojax.api_util import argnums_partial, check_callable, check_inputs, static_positions
from nanojax.core import ClosedJaxpr, Primitive, ShapedArray, _state, eval_jaxpr, get_aval, \
    own_memory
from nanojax.jaxpr_transforms import batch_jaxpr, hoist_tracers, is_float_aval, jvp_jaxpr, \
    vjp_jaxpr
from nanojax.primitives.base import _register
from nanojax.tree_util import tree_flatten, tree_unflatten

__all__ = ["checkpoint", "remat", "checkpoint_p", "checkpoint_policies"]


def _run(closed: ClosedJaxpr, args: Sequence[Any]) -> list:
    return eval_jaxpr(closed.jaxpr, closed.consts, *args)


def _impl(*args: Any, jaxpr: ClosedJaxpr, prevent_cse: bool, policy: Any) -> list:
    return own_memory(_run(jaxpr, args), args)


def _abstract_eval(*avals: ShapedArray, jaxpr: ClosedJaxpr, prevent_cse: bool,
                   policy: Any) -> list[ShapedArray]:
    return jaxpr.out_avals


def _joint_jvp(primals: Sequence[Any], tangents: Sequence[Any], *, jaxpr: ClosedJaxpr,
               prevent_cse: bool, policy: Any) -> tuple:
    nonzeros = [t is not None for t in tangents]
    new, out_nz = jvp_jaxpr(jaxpr, nonzeros, [False] * len(jaxpr.out_avals))
    ts = [P.broadcast_to(t, P.shape_of(p)) if P.shape_of(t) != P.shape_of(p) else t
          for p, t in zip(primals, tangents) if t is not None]
    outs = checkpoint_p.bind(*primals, *ts, jaxpr=new, prevent_cse=prevent_cse, policy=policy)
    n = len(jaxpr.out_avals)
    it = iter(outs[n:])
    return outs[:n], [next(it) if nz else None for nz in out_nz]


def _vjp(g: list, ans: list, *args: Any, jaxpr: ClosedJaxpr, prevent_cse: bool,
         policy: Any) -> list:
    # The backward jaxpr runs the function forward again: the rematerialization.
    wanted = [is_float_aval(a) for a in jaxpr.in_avals]
    backward = vjp_jaxpr(jaxpr, wanted)
    cts = [ct for ct, a in zip(g, jaxpr.out_avals) if is_float_aval(a)]
    pulled = iter(checkpoint_p.bind(*args, *cts, jaxpr=backward, prevent_cse=prevent_cse,
                                    policy=policy))
    return [next(pulled) if w else None for w in wanted]


def _batch(size: int, vals: list, dims: list, *, jaxpr: ClosedJaxpr, prevent_cse: bool,
           policy: Any) -> tuple:
    vals = [v if d is None else P.move_to_front(v, d, size) for v, d in zip(vals, dims)]
    batched = [d is not None for d in dims]
    new, out_batched = batch_jaxpr(jaxpr, size, batched, [False] * len(jaxpr.out_avals))
    outs = checkpoint_p.bind(*vals, jaxpr=new, prevent_cse=prevent_cse, policy=policy)
    return outs, [0 if b else None for b in out_batched]


checkpoint_p = _register(Primitive("checkpoint", _impl, _abstract_eval, joint_jvp=_joint_jvp,
                                   vjp=_vjp, batch=_batch, multiple_results=True))


def checkpoint(fun: Callable | None = None, *, prevent_cse: bool = True, policy: Any = None,
               static_argnums: int | Sequence[int] = ()) -> Any:
    """``fun`` as one gate whose backward pass recomputes it (see the module doc).

    ``static_argnums`` are arguments held as Python values (not arrays).
    ``policy`` (JAX's choice of which intermediates may be saved) and
    ``prevent_cse`` are accepted; nanojax saves none of the function's
    intermediates whatever the policy, which is always a valid choice.
    """
    if fun is None:
        return functools.partial(checkpoint, prevent_cse=prevent_cse, policy=policy,
                                 static_argnums=static_argnums)
    check_callable(fun, "nanojax.checkpoint")

    @functools.wraps(fun)
    def remat_fun(*args: Any, **kwargs: Any) -> Any:
        static = static_positions(static_argnums, len(args), "nanojax.checkpoint")
        dynamic = [i for i in range(len(args)) if i not in static]
        dyn = (tuple(args[i] for i in dynamic), kwargs)
        flat, in_tree = tree_flatten(dyn)
        if not _state.stack:
            return fun(*args, **kwargs)       # no transformation: no tape to spare
        flat = check_inputs(flat, "nanojax.checkpoint")
        from nanojax.staging import trace_to_jaxpr     # staging imports the primitives

        def body(a: tuple, k: dict) -> Any:
            return argnums_partial(fun, args, dynamic, k)(*a)
        closed, out_tree = trace_to_jaxpr(body, [get_aval(x) for x in flat], in_tree,
                                          "nanojax.checkpoint")
        closed, hoisted = hoist_tracers(closed)
        outs = checkpoint_p.bind(*hoisted, *flat, jaxpr=closed, prevent_cse=prevent_cse,
                                 policy=policy)
        return tree_unflatten(out_tree, outs)

    return remat_fun


remat = checkpoint


class checkpoint_policies:
    """JAX's policies for ``checkpoint(policy=...)``: which intermediates may be saved.

    Each is accepted; nanojax's checkpoint saves no intermediate under any
    of them (recomputing is always correct), so they differ in name only.
    """

    @staticmethod
    def everything_saveable(*_: Any, **__: Any) -> bool:
        return True

    @staticmethod
    def nothing_saveable(*_: Any, **__: Any) -> bool:
        return False

    @staticmethod
    def dots_saveable(*_: Any, **__: Any) -> bool:
        return False

    checkpoint_dots = dots_saveable
    dots_with_no_batch_dims_saveable = dots_saveable
    checkpoint_dots_with_no_batch_dims = dots_saveable

    @staticmethod
    def save_from_both_policies(policy_1: Any, policy_2: Any) -> Callable[..., bool]:
        return checkpoint_policies.nothing_saveable

    @staticmethod
    def offload_dot_with_no_batch_dims(offload_src: str, offload_dst: str) -> Callable[..., bool]:
        return checkpoint_policies.nothing_saveable

    @staticmethod
    def save_and_offload_only_these_names(*, names_which_can_be_saved: Any = (),
                                          names_which_can_be_offloaded: Any = (),
                                          offload_src: str = "device",
                                          offload_dst: str = "pinned_host") -> Callable[..., bool]:
        return checkpoint_policies.nothing_saveable

    @staticmethod
    def save_only_these_names(*names: str) -> Callable[..., bool]:
        return checkpoint_policies.nothing_saveable

    @staticmethod
    def save_any_names_but_these(*names: str) -> Callable[..., bool]:
        return checkpoint_policies.nothing_saveable

    @staticmethod
    def save_anything_except_these_names(*names: str) -> Callable[..., bool]:
        return checkpoint_policies.nothing_saveable
